// The OTLP exporter against an in-process ProfilesService (gRPC C++): one
// request per batch, the bearer token, and how the receiver's answers map to
// statuses. The Collector's own receiver is in tests/push (TestPushOTLP).
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/export/push/exporter.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/profiles/v1development/profiles_service.grpc.pb.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

namespace pc = opentelemetry::proto::collector::profiles::v1development;

class Receiver final : public pc::ProfilesService::Service {
 public:
  grpc::Status Export(grpc::ServerContext* context,
                      const pc::ExportProfilesServiceRequest* request,
                      pc::ExportProfilesServiceResponse* response) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(*request);
    auto auth = context->client_metadata().find("authorization");
    auths_.push_back(
        auth == context->client_metadata().end()
            ? ""
            : std::string(auth->second.data(), auth->second.size()));
    if (rejected_ > 0) {
      response->mutable_partial_success()->set_rejected_profiles(rejected_);
      response->mutable_partial_success()->set_error_message("too old");
    }
    return status_;
  }

  // How the next requests are answered.
  void Answer(grpc::Status status, int64_t rejected) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
    rejected_ = rejected;
  }

  absl::Mutex mu_;
  std::vector<pc::ExportProfilesServiceRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> auths_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_) = grpc::Status::OK;
  int64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
};

class OtlpExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&receiver_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override { server_->Shutdown(); }

  std::unique_ptr<ProfileExporter> Exporter(std::string token_file = "") {
    EndpointOptions options;
    options.url = "http://127.0.0.1:" + std::to_string(port_);
    options.bearer_token_file = std::move(token_file);
    absl::StatusOr<std::unique_ptr<ProfileExporter>> e =
        NewOtlpExporter(options);
    EXPECT_TRUE(e.ok()) << e.status();
    return *std::move(e);
  }

  static std::shared_ptr<const PushProfile> Profile(int pid) {
    ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}},
                     {"cpu", "nanoseconds"}, 10000000);
    const uint64_t loc = b.SyntheticLocationId("main.work");
    EXPECT_TRUE(b.AddSample(std::vector<uint64_t>{loc},
                            std::vector<int64_t>{2, 20000000}, {}));
    auto p = std::make_shared<PushProfile>();
    p->pprof = b.SerializeGzip();
    p->labels = {{"__name__", "process_cpu"}, {"pid", std::to_string(pid)}};
    p->id = NewProfileId();
    return p;
  }

  Receiver receiver_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(OtlpExporterTest, SendsABatchAsOneRequestWithTheToken) {
  const std::string token = ::testing::TempDir() + "/otlp_token";
  std::ofstream(token) << "s3cret\n";
  std::unique_ptr<ProfileExporter> e = Exporter(token);
  EXPECT_EQ(e->backend(), "otlp");
  // The second profile does not decode: the others go all the same.
  auto broken = std::make_shared<PushProfile>();
  broken->pprof = "\x1f\x8b broken";
  const absl::Status s =
      e->Export({Profile(1), broken, Profile(2)}, absl::Seconds(5));
  ASSERT_TRUE(s.ok()) << s;
  absl::MutexLock lock(&receiver_.mu_);
  ASSERT_EQ(receiver_.requests_.size(), 1u);
  EXPECT_EQ(receiver_.auths_[0], "Bearer s3cret");
  const pc::ExportProfilesServiceRequest& r = receiver_.requests_[0];
  ASSERT_EQ(r.resource_profiles_size(), 2);  // one per process
  for (const auto& rp : r.resource_profiles()) {
    EXPECT_EQ(rp.scope_profiles(0).profiles_size(), 2);  // samples, cpu
  }
}

TEST_F(OtlpExporterTest, ReceiverErrorsKeepTheirCodes) {
  std::unique_ptr<ProfileExporter> e = Exporter();
  receiver_.Answer(grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy"), 0);
  absl::Status s = e->Export({Profile(1)}, absl::Seconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(RetryableExportError(s));

  receiver_.Answer(
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad profile"), 0);
  s = e->Export({Profile(1)}, absl::Seconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_FALSE(RetryableExportError(s));

  // A partial success is a success: OTLP says not to send it again.
  receiver_.Answer(grpc::Status::OK, 1);
  s = e->Export({Profile(1)}, absl::Seconds(5));
  EXPECT_TRUE(s.ok()) << s;

  // Nothing that decodes: nothing sent, the batch refused.
  auto broken = std::make_shared<PushProfile>();
  broken->pprof = "\x1f\x8b broken";
  s = e->Export({broken}, absl::Seconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  absl::MutexLock lock(&receiver_.mu_);
  EXPECT_EQ(receiver_.requests_.size(), 3u);
}

}  // namespace
}  // namespace gspy
