// The caller's bearer token for gspyd --authn=kubernetes, from --token-file
// or, in a pod, the service account's token, and channels whose every call
// carries it ("authorization: Bearer <token>"), over any transport.
#ifndef GSPY_CLI_GSPYD_CHANNEL_H_
#define GSPY_CLI_GSPYD_CHANNEL_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace gspy {

// The service account token of a pod, used when --token-file is not given.
inline constexpr char kInClusterTokenFile[] =
    "/var/run/secrets/kubernetes.io/serviceaccount/token";

// The token in `token_file` (kubeconfig's tokenFile: the token alone,
// surrounding whitespace ignored); without one, the in-cluster token when
// that file exists, else "" (no token). An error when `token_file` cannot be
// read or is empty.
absl::StatusOr<std::string> CallerToken(
    const std::optional<std::string>& token_file,
    const std::string& in_cluster_file = kInClusterTokenFile);

// A channel to `target` over `credentials`; with a token, every call
// carries it (a client interceptor: call credentials would be refused on a
// plaintext channel, the loopback one included).
std::shared_ptr<grpc::Channel> CreateChannelWithToken(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const grpc::ChannelArguments& args, const std::string& token);

}  // namespace gspy

#endif  // GSPY_CLI_GSPYD_CHANNEL_H_
