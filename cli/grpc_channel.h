// How the gspy CLI reaches gspyd: --server (HOST:PORT or unix:///PATH),
// plaintext or TLS (--tls, --tls-ca-file), with a client certificate for
// mutual TLS (--tls-cert-file, --tls-key-file). Cluster pulls use the same.
#ifndef GSPY_CLI_GRPC_CHANNEL_H_
#define GSPY_CLI_GRPC_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/command_line.h"

namespace gspy {

struct ClientTransport {
  bool tls = false;
  std::string ca_pem;    // empty: the system's roots
  std::string cert_pem;  // with key_pem: the client certificate (mTLS)
  std::string key_pem;
  // The name the server's certificate must carry, when it is not the host
  // dialled (a pod IP in a cluster pull, 127.0.0.1 through a tunnel).
  std::string server_name;
  // Sent with every call (gspyd --authn=kubernetes); empty: none. From
  // --token-file, else the pod's service-account token (gspyd_channel.h).
  std::string bearer_token;
};

// The transport the flags ask for: TLS when --tls or any --tls-* flag is
// given (gspyd's unix socket is plaintext: give none of them with it). The
// files are read here: INVALID_ARGUMENT naming a file that cannot be read, or a
// certificate without its key (or the reverse).
absl::StatusOr<ClientTransport> ClientTransportFrom(const CommandLine& cl);

// A channel to `target` (HOST:PORT or unix:///PATH) over `transport`.
std::shared_ptr<grpc::Channel> Dial(const std::string& target,
                                    const ClientTransport& transport,
                                    grpc::ChannelArguments args = {});

}  // namespace gspy

#endif  // GSPY_CLI_GRPC_CHANNEL_H_
