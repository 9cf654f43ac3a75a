// gspyd's captures that fire on their own, put together: the store, the
// rule watcher, and the in-process gRPC server through which the watcher
// takes its evidence from a ProfilerService of its own (the same sessions,
// trackers, admission and redaction as users' pulls, without the
// authorization meant for callers from outside).
#ifndef GSPY_DAEMON_GSPYD_CAPTURES_H_
#define GSPY_DAEMON_GSPYD_CAPTURES_H_

#include <memory>

#include "absl/status/statusor.h"
#include "base/metrics_registry.h"
#include "daemon/api/profiler_service.h"
#include "daemon/capture/capture_evidence.h"
#include "daemon/capture/capture_store.h"
#include "daemon/capture/rule_watcher.h"
#include "grpcpp/server.h"

namespace gspy {

class GspydCaptures {
 public:
  // Null when `options` has no rule. Nothing passed is owned; all must
  // outlive the result.
  static absl::StatusOr<std::unique_ptr<GspydCaptures>> Create(
      const CaptureOptions& options, const ProfilerServiceOptions& profiler,
      ProcessTable* processes, SessionRegistry* sessions,
      BlockTracker* block_tracker, SampledTracker* sampled,
      Admission* admission, const Redactor* redactor);
  ~GspydCaptures();  // Stop()

  CaptureStore* store() { return store_.get(); }
  // Before Start.
  void set_on_taken(CaptureTakenHook hook) {
    watcher_->set_on_taken(std::move(hook));
  }
  void Start() { watcher_->Start(); }
  void Stop();
  // Registers the captures' metrics until Stop.
  void RegisterMetrics(MetricsRegistry* registry);

 private:
  GspydCaptures() = default;
  std::unique_ptr<CaptureStore> store_;
  std::unique_ptr<ProfilerService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<GrpcCaptureEvidence> evidence_;
  std::unique_ptr<RuleWatcher> watcher_;
  MetricsRegistry* registry_ = nullptr;
  int metrics_id_ = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_GSPYD_CAPTURES_H_
