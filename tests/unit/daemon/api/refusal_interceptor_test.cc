// gRPC's own refusals, provoked on a real gRPC server, counted in
// gspy_requests_refused_total.
#include "daemon/api/refusal_interceptor.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"
#include "tests/unit/daemon/api/refused_count.h"

namespace gspy {
namespace {

using testing::Refused;

// GetVersion holds its thread until released: the calls a test starts pile
// up in the server's threads.
class BlockingProfiler : public gspy::v1::Profiler::Service {
 public:
  grpc::Status GetVersion(grpc::ServerContext* /*context*/,
                          const gspy::v1::GetVersionRequest* /*request*/,
                          gspy::v1::GetVersionResponse* response) override {
    in_handler_.fetch_add(1);
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&released_), absl::Seconds(20));
    }
    response->set_version("test");
    return grpc::Status::OK;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  int in_handler() const { return in_handler_.load(); }

 private:
  std::atomic<int> in_handler_{0};
  absl::Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

struct TestServer {
  explicit TestServer(Admission* admission, int max_threads) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(NewRefusalCountingInterceptorFactory(admission));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    grpc::ResourceQuota quota("refusal_interceptor_test");
    quota.SetMaxThreads(max_threads);
    builder.SetResourceQuota(quota);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~TestServer() {
    service.Release();
    server->Shutdown(std::chrono::system_clock::now());
  }
  std::unique_ptr<gspy::v1::Profiler::Stub> Stub() const {
    return gspy::v1::Profiler::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  BlockingProfiler service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

TEST(RefusalInterceptorTest, ThreadQuotaRefusalsAreCounted) {
  Admission admission{AdmissionLimits()};
  TestServer server(&admission, /*max_threads=*/4);
  ASSERT_NE(server.server, nullptr);
  auto stub = server.Stub();

  constexpr int kCalls = 24;
  absl::Mutex mu;
  std::vector<grpc::Status> statuses;
  std::vector<std::thread> clients;
  for (int i = 0; i < kCalls; ++i) {
    clients.emplace_back([&] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(30));
      gspy::v1::GetVersionRequest request;
      gspy::v1::GetVersionResponse response;
      grpc::Status s = stub->GetVersion(&context, request, &response);
      absl::MutexLock lock(&mu);
      statuses.push_back(std::move(s));
    });
  }
  // Every call is either held by the handler or already refused.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    int done;
    {
      absl::MutexLock lock(&mu);
      done = static_cast<int>(statuses.size());
    }
    if (done + server.service.in_handler() >= kCalls) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  server.service.Release();
  for (std::thread& t : clients) t.join();

  int exhausted = 0;
  int ok = 0;
  for (const grpc::Status& s : statuses) {
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << s.error_message();
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++exhausted;
    }
  }
  // At most the quota's threads run handlers at once: the rest were
  // refused by gRPC, not by gspyd's code.
  EXPECT_GT(exhausted, 0) << ok << " calls served";
  EXPECT_LT(server.service.in_handler(), kCalls);
  EXPECT_EQ(Refused(admission, "server_threads"), exhausted);
  // Nothing else was counted as a refusal.
  EXPECT_EQ(Refused(admission, "concurrent_pulls"), 0);
}

TEST(RefusalInterceptorTest, ServedCallsAndHandlerErrorsAreNotCounted) {
  Admission admission{AdmissionLimits()};
  TestServer server(&admission, /*max_threads=*/16);
  ASSERT_NE(server.server, nullptr);
  server.service.Release();
  auto stub = server.Stub();
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    gspy::v1::GetVersionRequest request;
    gspy::v1::GetVersionResponse response;
    EXPECT_TRUE(stub->GetVersion(&context, request, &response).ok());
  }
  {
    // Not implemented by the test's service: UNIMPLEMENTED, not a refusal.
    grpc::ClientContext context;
    gspy::v1::ListTargetsRequest request;
    gspy::v1::ListTargetsResponse response;
    EXPECT_EQ(stub->ListTargets(&context, request, &response).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  EXPECT_EQ(Refused(admission, "server_threads"), 0);
}

TEST(RefusalInterceptorTest, OnlyGrpcsThreadpoolStatusIsItsRefusal) {
  EXPECT_EQ(GrpcOwnRefusal(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "Server Threadpool Exhausted"),
            Refusal::kServerThreads);
  // gspyd's own RESOURCE_EXHAUSTED are counted where they are decided.
  EXPECT_EQ(GrpcOwnRefusal(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "gspyd is serving 64 pulls, its limit "
                           "(--max-concurrent-pulls=64)"),
            std::nullopt);
  EXPECT_EQ(GrpcOwnRefusal(grpc::StatusCode::UNAVAILABLE,
                           "Server Threadpool Exhausted"),
            std::nullopt);
}

}  // namespace
}  // namespace gspy
