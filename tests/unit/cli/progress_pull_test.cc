// PullWithProgress against an in-process gspy.v1.Profiler: progress
// messages reach the line, the result is the response, and an older gspyd
// without PullProfile is asked with GetProfile.
#include "cli/progress_pull.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "grpcpp/grpcpp.h"

namespace gspy {
namespace {

std::chrono::system_clock::time_point Soon() {
  return std::chrono::system_clock::now() + std::chrono::seconds(10);
}

class StreamingProfiler final : public gspy::v1::Profiler::Service {
 public:
  grpc::Status PullProfile(
      grpc::ServerContext*, const gspy::v1::GetProfileRequest* request,
      grpc::ServerWriter<gspy::v1::PullProfileMessage>* writer) override {
    for (int64_t n : {3, 17}) {
      gspy::v1::PullProfileMessage m;
      m.mutable_progress()->set_samples(n);
      writer->Write(m);
    }
    if (request->type() == gspy::v1::PROFILE_TYPE_WALL) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "process 7 exited");
    }
    gspy::v1::PullProfileMessage m;
    m.mutable_result()->set_samples(20);
    m.mutable_result()->set_pprof("profile");
    writer->Write(m);
    return grpc::Status::OK;
  }
};

// Knows only GetProfile, as gspyd before PullProfile.
class OlderProfiler final : public gspy::v1::Profiler::Service {
 public:
  grpc::Status GetProfile(grpc::ServerContext*,
                          const gspy::v1::GetProfileRequest*,
                          gspy::v1::GetProfileResponse* response) override {
    response->set_samples(5);
    return grpc::Status::OK;
  }
};

struct Served {
  explicit Served(grpc::Service* service) {
    grpc::ServerBuilder b;
    b.RegisterService(service);
    server = b.BuildAndStart();
    stub = gspy::v1::Profiler::NewStub(
        server->InProcessChannel(grpc::ChannelArguments()));
  }
  ~Served() { server->Shutdown(); }
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<gspy::v1::Profiler::Stub> stub;
};

// A progress line on a pipe: disabled, but it still keeps the count.
struct Line {
  Line() {
    EXPECT_EQ(pipe(fds), 0);
    progress =
        std::make_unique<PullProgress>(fds[1], "cpu profile", absl::Seconds(1));
  }
  ~Line() {
    progress.reset();
    close(fds[0]);
    close(fds[1]);
  }
  int fds[2];
  std::unique_ptr<PullProgress> progress;
};

TEST(PullWithProgressTest, ProgressThenResult) {
  StreamingProfiler service;
  Served served(&service);
  Line line;
  gspy::v1::GetProfileRequest request;
  request.set_type(gspy::v1::PROFILE_TYPE_CPU);
  gspy::v1::GetProfileResponse response;
  grpc::Status s = PullWithProgress(*served.stub, Soon(), request,
                                    line.progress.get(), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.samples(), 20);
  EXPECT_EQ(response.pprof(), "profile");
  EXPECT_EQ(line.progress->samples(), 17);
}

TEST(PullWithProgressTest, AnErrorAfterProgressIsTheError) {
  StreamingProfiler service;
  Served served(&service);
  Line line;
  gspy::v1::GetProfileRequest request;
  request.set_type(gspy::v1::PROFILE_TYPE_WALL);
  gspy::v1::GetProfileResponse response;
  grpc::Status s = PullWithProgress(*served.stub, Soon(), request,
                                    line.progress.get(), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "process 7 exited");
}

TEST(PullWithProgressTest, AnOlderGspydIsAskedWithGetProfile) {
  OlderProfiler service;
  Served served(&service);
  Line line;
  gspy::v1::GetProfileResponse response;
  grpc::Status s = PullWithProgress(*served.stub, Soon(), {},
                                    line.progress.get(), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.samples(), 5);
  EXPECT_EQ(line.progress->samples(), -1);
}

}  // namespace
}  // namespace gspy
