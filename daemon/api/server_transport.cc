#include "daemon/api/server_transport.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace gspy {
namespace {

// A PEM file gspyd must be able to read at start: later reads keep the last
// good content, so a typo would otherwise surface as failing handshakes.
absl::Status CheckReadable(const std::string& flag, const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, "=", path, ": cannot be read: ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsUnixSocketAddress(absl::string_view address) {
  return absl::StartsWith(address, "unix:");
}

std::string UnixSocketPath(absl::string_view address) {
  absl::string_view path = address;
  absl::ConsumePrefix(&path, "unix:");
  // unix:///abs/path and unix:/abs/path both name /abs/path.
  absl::ConsumePrefix(&path, "//");
  return std::string(path);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TcpServerCredentials(
    const TransportOptions& o) {
  if (o.tls_cert_file.empty() && o.tls_key_file.empty()) {
    if (!o.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls-client-ca-file needs --tls-cert-file and --tls-key-file: "
          "client certificates are only asked for over TLS");
    }
    return grpc::InsecureServerCredentials();
  }
  if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert-file and --tls-key-file go together");
  }
  for (const auto& [flag, path] :
       {std::pair<std::string, std::string>{"tls-cert-file", o.tls_cert_file},
        {"tls-key-file", o.tls_key_file},
        {"tls-client-ca-file", o.tls_client_ca_file}}) {
    if (path.empty()) continue;
    if (absl::Status s = CheckReadable(flag, path); !s.ok()) return s;
  }
  const auto interval = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(o.tls_reload_interval)));
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          o.tls_key_file, o.tls_cert_file, o.tls_client_ca_file, interval);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (o.tls_client_ca_file.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  std::shared_ptr<grpc::ServerCredentials> creds =
      grpc::experimental::TlsServerCredentials(options);
  if (creds == nullptr) {
    return absl::InvalidArgumentError("gRPC refused the TLS options");
  }
  return creds;
}

absl::Status PrepareUnixSocketDirectory(absl::string_view address) {
  const std::string path = UnixSocketPath(address);
  const size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen=", address,
                     ": a unix socket needs an absolute path "
                     "(unix:///run/gspy/gspyd.sock)"));
  }
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || mkdir(dir.c_str(), 0700) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--listen=", address,
                                                     ": cannot create ", dir,
                                                     ": ", strerror(errno)));
    }
    return absl::OkStatus();
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen=", address, ": ", dir, " is not a directory"));
  }
  // Another user who may write the directory may replace the socket with
  // one of theirs; a sticky directory (/tmp) lets them only add their own.
  const bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (st.st_uid != geteuid() || (others_write && !(st.st_mode & S_ISVTX))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen=", address, ": ", dir,
        " may be written by another user than gspyd's: use a directory of "
        "its own (gspyd creates a missing one with mode 0700)"));
  }
  return absl::OkStatus();
}

OwnerOnlyUmask::OwnerOnlyUmask() : old_(umask(0077)) {}
OwnerOnlyUmask::~OwnerOnlyUmask() { umask(static_cast<mode_t>(old_)); }

absl::Status RestrictUnixSocket(absl::string_view address) {
  const std::string path = UnixSocketPath(address);
  if (chmod(path.c_str(), 0600) != 0) {
    return absl::InternalError(
        absl::StrCat("chmod 0600 ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace gspy
