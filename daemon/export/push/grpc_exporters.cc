// The Pyroscope, Parca and OTLP exporters over gRPC (C++), and their
// channels.
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/log.h"
#include "daemon/export/push/exporter.h"
#include "daemon/export/push/otlp_profile.h"
#include "opentelemetry/proto/collector/profiles/v1development/profiles_service.grpc.pb.h"
#include "proto/parca/profilestore/v1alpha1/profilestore.grpc.pb.h"
#include "proto/pyroscope/push/v1/push.grpc.pb.h"

namespace gspy {

bool RetryableExportError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::string> BearerToken::Get() {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("bearer token file ", path_, ": ", strerror(errno)));
  }
  const int64_t mtime =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
      st.st_mtim.tv_nsec;
  absl::MutexLock lock(&mu_);
  if (mtime == mtime_ns_ && st.st_size == size_ && st.st_ino == inode_) {
    return token_;
  }
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("bearer token file ", path_, ": cannot read"));
  }
  token_ = std::string(absl::StripAsciiWhitespace(text.str()));
  mtime_ns_ = mtime;
  size_ = st.st_size;
  inode_ = st.st_ino;
  return token_;
}

absl::StatusOr<ParsedEndpoint> ParseEndpointUrl(const std::string& url) {
  ParsedEndpoint out;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "https://")) {
    out.tls = true;
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    out.tls = false;
  } else if (absl::StrContains(rest, "://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("push URL ", url, ": the scheme must be https or http"));
  }
  absl::ConsumeSuffix(&rest, "/");
  if (rest.empty() || absl::StrContains(rest, "/")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "push URL ", url,
        ": want https://HOST:PORT, http://HOST:PORT or HOST:PORT (gRPC has "
        "no path prefix)"));
  }
  out.target = std::string(rest);
  // No port: the scheme's.
  const bool bracketed = absl::StartsWith(rest, "[");
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos ||
      (bracketed && colon < rest.rfind(']'))) {
    absl::StrAppend(&out.target, out.tls ? ":443" : ":80");
  }
  return out;
}

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

// What both exporters share: the channel, the token and the call context.
class GrpcExporterBase : public ProfileExporter {
 protected:
  explicit GrpcExporterBase(const EndpointOptions& options,
                            std::shared_ptr<grpc::Channel> channel)
      : channel_(std::move(channel)) {
    if (!options.bearer_token_file.empty()) {
      token_ = std::make_unique<BearerToken>(options.bearer_token_file);
    }
  }

  // Sets the deadline and the Authorization header.
  absl::Status Prepare(grpc::ClientContext* context, absl::Duration timeout) {
    context->set_deadline(std::chrono::system_clock::now() +
                          absl::ToChronoMilliseconds(timeout));
    if (token_ != nullptr) {
      absl::StatusOr<std::string> token = token_->Get();
      if (!token.ok()) return token.status();
      context->AddMetadata("authorization", absl::StrCat("Bearer ", *token));
    }
    return absl::OkStatus();
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<BearerToken> token_;
};

class PyroscopeExporter final : public GrpcExporterBase {
 public:
  PyroscopeExporter(const EndpointOptions& options,
                    std::shared_ptr<grpc::Channel> channel)
      : GrpcExporterBase(options, channel),
        stub_(push::v1::PusherService::NewStub(channel)) {}

  std::string backend() const override { return "pyroscope"; }

  absl::Status Export(
      const std::vector<std::shared_ptr<const PushProfile>>& batch,
      absl::Duration timeout) override {
    push::v1::PushRequest request;
    for (const auto& p : batch) {
      push::v1::RawProfileSeries* series = request.add_series();
      // Every profile gspy pushes covers one interval (alloc_* of heap
      // profiles too): __delta__="false" tells Pyroscope not to make deltas
      // of its own (pyroscope pkg/phlaredb/head.go, Head.Ingest: `delta :=
      // ...Get(LabelNameDelta) != "false"`), as the Grafana Agent's
      // pyroscope.scrape says of the memory, block and mutex profiles it
      // made deltas of (grafana/agent component/pyroscope/scrape/
      // delta_appender.go).
      types::v1::LabelPair* delta = series->add_labels();
      delta->set_name("__delta__");
      delta->set_value("false");
      for (const auto& [k, v] : p->labels) {
        types::v1::LabelPair* l = series->add_labels();
        l->set_name(k);
        l->set_value(v);
      }
      push::v1::RawSample* sample = series->add_samples();
      sample->set_raw_profile(p->pprof);
      sample->set_id(p->id);
    }
    grpc::ClientContext context;
    if (absl::Status s = Prepare(&context, timeout); !s.ok()) return s;
    push::v1::PushResponse response;
    return FromGrpc(stub_->Push(&context, request, &response));
  }

 private:
  std::unique_ptr<push::v1::PusherService::Stub> stub_;
};

class ParcaExporter final : public GrpcExporterBase {
 public:
  ParcaExporter(const EndpointOptions& options,
                std::shared_ptr<grpc::Channel> channel)
      : GrpcExporterBase(options, channel),
        stub_(parca::profilestore::v1alpha1::ProfileStoreService::NewStub(
            channel)) {}

  std::string backend() const override { return "parca"; }

  absl::Status Export(
      const std::vector<std::shared_ptr<const PushProfile>>& batch,
      absl::Duration timeout) override {
    namespace ps = parca::profilestore::v1alpha1;
    ps::WriteRawRequest request;
    request.set_normalized(false);
    for (const auto& p : batch) {
      ps::RawProfileSeries* series = request.add_series();
      for (const auto& [k, v] : p->labels) {
        ps::Label* l = series->mutable_labels()->add_labels();
        l->set_name(k);
        l->set_value(v);
      }
      series->add_samples()->set_raw_profile(p->pprof);
    }
    grpc::ClientContext context;
    if (absl::Status s = Prepare(&context, timeout); !s.ok()) return s;
    ps::WriteRawResponse response;
    return FromGrpc(stub_->WriteRaw(&context, request, &response));
  }

 private:
  std::unique_ptr<parca::profilestore::v1alpha1::ProfileStoreService::Stub>
      stub_;
};

// OTLP's opentelemetry.proto.collector.profiles.v1development.ProfilesService
// Export: the batch converted into one request (otlp_profile.h).
class OtlpExporter final : public GrpcExporterBase {
 public:
  OtlpExporter(const EndpointOptions& options,
               std::shared_ptr<grpc::Channel> channel)
      : GrpcExporterBase(options, channel),
        stub_(opentelemetry::proto::collector::profiles::v1development::
                  ProfilesService::NewStub(channel)) {}

  std::string backend() const override { return "otlp"; }

  absl::Status Export(
      const std::vector<std::shared_ptr<const PushProfile>>& batch,
      absl::Duration timeout) override {
    namespace pc = opentelemetry::proto::collector::profiles::v1development;
    OtlpRequestBuilder builder;
    absl::Status first_error;
    int added = 0;
    for (const auto& p : batch) {
      // A profile that cannot be converted (none should: gspy made it) does
      // not hold back the others.
      if (absl::Status s = builder.Add(*p); !s.ok()) {
        if (first_error.ok()) first_error = s;
        continue;
      }
      ++added;
    }
    if (!first_error.ok()) {
      GSPY_LOG(ERROR) << "push: otlp: " << batch.size() - added << " of "
                      << batch.size()
                      << " profiles not sent: " << first_error.message();
      if (added == 0) return first_error;
    }
    const pc::ExportProfilesServiceRequest request = std::move(builder).Take();
    grpc::ClientContext context;
    if (absl::Status s = Prepare(&context, timeout); !s.ok()) return s;
    pc::ExportProfilesServiceResponse response;
    absl::Status status = FromGrpc(stub_->Export(&context, request, &response));
    if (status.ok() && response.has_partial_success() &&
        (response.partial_success().rejected_profiles() > 0 ||
         !response.partial_success().error_message().empty())) {
      // Not to be sent again (the OTLP specification): told, not retried.
      GSPY_LOG(WARNING) << "push: otlp: the receiver rejected "
                        << response.partial_success().rejected_profiles()
                        << " profiles: "
                        << response.partial_success().error_message();
    }
    return status;
  }

 private:
  std::unique_ptr<opentelemetry::proto::collector::profiles::v1development::
                      ProfilesService::Stub>
      stub_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> NewPushChannel(
    const EndpointOptions& options) {
  absl::StatusOr<ParsedEndpoint> endpoint = ParseEndpointUrl(options.url);
  if (!endpoint.ok()) return endpoint.status();
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!endpoint->tls) {
    creds = grpc::InsecureChannelCredentials();
  } else if (options.insecure_skip_verify) {
    grpc::experimental::TlsChannelCredentialsOptions tls;
    tls.set_verify_server_certs(false);
    tls.set_check_call_host(false);
    tls.set_certificate_verifier(
        std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    creds = grpc::experimental::TlsCredentials(tls);
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca_file.empty()) {
      absl::StatusOr<std::string> pem = ReadFile(options.tls_ca_file);
      if (!pem.ok()) return pem.status();
      ssl.pem_root_certs = *pem;
    }
    creds = grpc::SslCredentials(ssl);
  }
  if (creds == nullptr) {
    return absl::InternalError("cannot make the TLS credentials");
  }
  grpc::ChannelArguments args;
  // Profiles of big binaries can be several MiB; a batch holds many.
  args.SetMaxSendMessageSize(-1);
  // Reconnect soon after the backend comes back.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  args.SetUserAgentPrefix("gspyd");
  return grpc::CreateCustomChannel(endpoint->target, creds, args);
}

absl::StatusOr<std::unique_ptr<ProfileExporter>> NewPyroscopeExporter(
    const EndpointOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      NewPushChannel(options);
  if (!channel.ok()) return channel.status();
  return std::make_unique<PyroscopeExporter>(options, *channel);
}

absl::StatusOr<std::unique_ptr<ProfileExporter>> NewParcaExporter(
    const EndpointOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      NewPushChannel(options);
  if (!channel.ok()) return channel.status();
  return std::make_unique<ParcaExporter>(options, *channel);
}

absl::StatusOr<std::unique_ptr<ProfileExporter>> NewOtlpExporter(
    const EndpointOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      NewPushChannel(options);
  if (!channel.ok()) return channel.status();
  return std::make_unique<OtlpExporter>(options, *channel);
}

}  // namespace gspy
