#include "cli/grpc_channel.h"

#include <errno.h>
#include <string.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/gspyd_channel.h"

namespace gspy {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag,
                                    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, "=", path, ": cannot be read: ", strerror(errno)));
  }
  std::stringstream s;
  s << in.rdbuf();
  if (s.str().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", path, ": the file is empty"));
  }
  return s.str();
}

}  // namespace

absl::StatusOr<ClientTransport> ClientTransportFrom(const CommandLine& cl) {
  ClientTransport t;
  t.tls = cl.Has("tls") || cl.Has("tls-ca-file") || cl.Has("tls-cert-file") ||
          cl.Has("tls-key-file") || cl.Has("tls-server-name");
  if (cl.Has("tls-cert-file") != cl.Has("tls-key-file")) {
    return absl::InvalidArgumentError(
        "--tls-cert-file and --tls-key-file go together");
  }
  for (auto [flag, out] :
       {std::pair<const char*, std::string*>{"tls-ca-file", &t.ca_pem},
        {"tls-cert-file", &t.cert_pem},
        {"tls-key-file", &t.key_pem}}) {
    if (auto path = cl.Get(flag)) {
      absl::StatusOr<std::string> pem = ReadPem(flag, *path);
      if (!pem.ok()) return pem.status();
      *out = *std::move(pem);
    }
  }
  t.server_name = cl.Get("tls-server-name").value_or("");
  absl::StatusOr<std::string> token = CallerToken(cl.Get("token-file"));
  if (!token.ok()) return token.status();
  t.bearer_token = *std::move(token);
  return t;
}

std::shared_ptr<grpc::Channel> Dial(const std::string& target,
                                    const ClientTransport& transport,
                                    grpc::ChannelArguments args) {
  if (!transport.tls) {
    return CreateChannelWithToken(target, grpc::InsecureChannelCredentials(),
                                  args, transport.bearer_token);
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = transport.ca_pem;
  ssl.pem_cert_chain = transport.cert_pem;
  ssl.pem_private_key = transport.key_pem;
  if (!transport.server_name.empty()) {
    args.SetSslTargetNameOverride(transport.server_name);
  }
  return CreateChannelWithToken(target, grpc::SslCredentials(ssl), args,
                                transport.bearer_token);
}

}  // namespace gspy
