// The gspy.v1.Profiler gRPC service.
#ifndef GSPY_DAEMON_API_PROFILER_SERVICE_H_
#define GSPY_DAEMON_API_PROFILER_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/aggregation/cpu_sessions.h"
#include "daemon/aggregation/kernel_symbols.h"
#include "daemon/api/admission.h"
#include "daemon/api/pull_window.h"
#include "daemon/api/request_checks.h"
#include "daemon/sources/block/block_tracker.h"
#include "daemon/sources/gc/gc_tracker.h"
#include "daemon/sources/sampled/sampled_tracker.h"
#include "golang/process/go_process.h"
#include "profile/redact/redactor.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {

struct ProfilerServiceOptions {
  absl::Duration max_duration = absl::Minutes(5);
  int64_t period_ns = 10'101'010;
  size_t max_stacks_per_profile = 100'000;
  // How often a pull looks for processes that exited, or for new processes
  // of a selected executable.
  absl::Duration rescan_interval = absl::Milliseconds(500);
};

class ProfilerService final : public gspy::v1::Profiler::Service {
 public:
  // `block_tracker` serves the block and sched-latency profile types;
  // `admission` decides which pulls run (it must outlive the service).
  ProfilerService(ProfilerServiceOptions options, ProcessTable* processes,
                  SessionRegistry* sessions, BlockTracker* block_tracker,
                  Admission* admission);

  // ListTargets reports the GC watches too when given the GC tracker.
  void set_gc_tracker(const GcTracker* gc) { gc_tracker_ = gc; }
  // Serves block, sched-latency and wall pulls that do not ask for `exact`
  // by sampling the goroutines' states; without it every such pull is exact.
  void set_sampled_tracker(SampledTracker* t) { sampled_tracker_ = t; }
  // What every response is redacted with (the operator's flags; none by
  // default). Not owned; must outlive the service.
  void set_redactor(const Redactor* r) { redactor_ = r; }

  grpc::Status ListTargets(grpc::ServerContext* context,
                           const gspy::v1::ListTargetsRequest* request,
                           gspy::v1::ListTargetsResponse* response) override;
  grpc::Status GetProfile(grpc::ServerContext* context,
                          const gspy::v1::GetProfileRequest* request,
                          gspy::v1::GetProfileResponse* response) override;
  // GetProfile, with progress messages while the window runs.
  grpc::Status PullProfile(
      grpc::ServerContext* context, const gspy::v1::GetProfileRequest* request,
      grpc::ServerWriter<gspy::v1::PullProfileMessage>* writer) override;
  // Goroutine dumps read from the processes' memory (goroutines_service.cc).
  grpc::Status GetGoroutines(
      grpc::ServerContext* context,
      const gspy::v1::GetGoroutinesRequest* request,
      grpc::ServerWriter<gspy::v1::GetGoroutinesResponse>* writer) override;
  grpc::Status GetVersion(grpc::ServerContext* context,
                          const gspy::v1::GetVersionRequest* request,
                          gspy::v1::GetVersionResponse* response) override;

 private:
  // Both RPCs: admission, then the pull of the request's type. `progress`
  // may be null.
  grpc::Status Pull(grpc::ServerContext* context,
                    const gspy::v1::GetProfileRequest& request,
                    gspy::v1::GetProfileResponse* response,
                    const PullProgressFn& progress);
  grpc::Status PullCpu(grpc::ServerContext* context,
                       const gspy::v1::GetProfileRequest& request,
                       gspy::v1::GetProfileResponse* response,
                       const PullProgressFn& progress);
  // Block and sched-latency (block_pull.cc). These and the wall pull are
  // sampled (SampledTracker) unless the request asks for `exact` (the
  // BlockTracker's uprobes).
  grpc::Status PullBlock(grpc::ServerContext* context,
                         const gspy::v1::GetProfileRequest& request,
                         gspy::v1::GetProfileResponse* response,
                         const PullProgressFn& progress);
  // Wall clock: the CPU profile for running goroutines and the waits for
  // the others, together (wall_pull.cc).
  grpc::Status PullWall(grpc::ServerContext* context,
                        const gspy::v1::GetProfileRequest& request,
                        gspy::v1::GetProfileResponse* response,
                        const PullProgressFn& progress);
  // Heap, mutex and runtime block: read from the runtime's own buckets
  // (bucket_pull.cc).
  grpc::Status PullBuckets(grpc::ServerContext* context,
                           const gspy::v1::GetProfileRequest& request,
                           gspy::v1::GetProfileResponse* response);
  const KernelSymbols& kernel_symbols();
  // The one way a pulled profile gets into a response: redacted. INTERNAL
  // (and no profile) if it cannot be.
  // The redactor's verdict on a request's filter (null: none).
  grpc::Status CheckFilter(const SampleFilter* filter) const;
  grpc::Status SetPprof(std::string pprof,
                        gspy::v1::GetProfileResponse* response) const;

  const ProfilerServiceOptions options_;
  ProcessTable* processes_;
  SessionRegistry* sessions_;
  BlockTracker* block_tracker_;
  Admission* admission_;
  const GcTracker* gc_tracker_ = nullptr;
  SampledTracker* sampled_tracker_ = nullptr;
  const Redactor* redactor_ = &Redactor::None();
  absl::once_flag kernel_once_;
  std::unique_ptr<KernelSymbols> kernel_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_API_PROFILER_SERVICE_H_
