// How gspyd's gRPC server is reached: TCP with TLS (mutual TLS with a client
// CA), certificates reloaded from their files as they rotate, and a unix
// socket only root can connect to, for local use.
#ifndef GSPY_DAEMON_API_SERVER_TRANSPORT_H_
#define GSPY_DAEMON_API_SERVER_TRANSPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/security/server_credentials.h"

namespace gspy {

struct TransportOptions {
  // Both or neither: the server's certificate chain and key (PEM). With
  // them every TCP listener speaks TLS only.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Mutual TLS: clients must present a certificate this CA bundle verifies.
  std::string tls_client_ca_file;
  // How often the three files are read again; a change (a rotation) applies
  // to new connections. gRPC's FileWatcherCertificateProvider.
  absl::Duration tls_reload_interval = absl::Seconds(10);
};

// Whether a --listen address is a unix socket ("unix:///run/gspy/x.sock",
// "unix:/run/...").
bool IsUnixSocketAddress(absl::string_view address);
// The socket's path of a unix address.
std::string UnixSocketPath(absl::string_view address);

// The credentials of gspyd's TCP listeners: insecure without TLS files, TLS
// (and mTLS with a client CA) otherwise. INVALID_ARGUMENT for a key without a
// certificate (or the reverse), a client CA without them, or a file that
// cannot be read now (later failures to read keep the last good files).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TcpServerCredentials(
    const TransportOptions& options);

// Before binding a unix socket: creates its directory with mode 0700 if it
// is missing, and refuses one that others than root may write (they could
// replace the socket). Root-only access is then the socket's mode, 0600 (see
// OwnerOnlyUmask).
absl::Status PrepareUnixSocketDirectory(absl::string_view address);

// Sets the process's umask to 0077 while it lives, so a socket gRPC binds
// meanwhile is created owner-only (no window in which it is 0777).
class OwnerOnlyUmask {
 public:
  OwnerOnlyUmask();
  ~OwnerOnlyUmask();
  OwnerOnlyUmask(const OwnerOnlyUmask&) = delete;
  OwnerOnlyUmask& operator=(const OwnerOnlyUmask&) = delete;

 private:
  unsigned old_;
};

// After binding: the socket's mode 0600 (read and write are what connecting
// needs). INTERNAL when it cannot be set.
absl::Status RestrictUnixSocket(absl::string_view address);

}  // namespace gspy

#endif  // GSPY_DAEMON_API_SERVER_TRANSPORT_H_
