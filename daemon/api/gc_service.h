// The gspy.v1.GcPauses gRPC service: streams the stop-the-world pauses the
// GcTracker measures.
#ifndef GSPY_DAEMON_API_GC_SERVICE_H_
#define GSPY_DAEMON_API_GC_SERVICE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/api/admission.h"
#include "daemon/sources/gc/gc_tracker.h"
#include "golang/process/go_process.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {

struct GcServiceOptions {
  absl::Duration max_duration = absl::Minutes(5);
  absl::Duration poll_interval = absl::Milliseconds(50);
  absl::Duration liveness_interval = absl::Milliseconds(250);
};

class GcService final : public gspy::v1::GcPauses::Service {
 public:
  // `admission` decides which watches run (it must outlive the service).
  GcService(GcServiceOptions options, ProcessTable* processes,
            GcTracker* tracker, Admission* admission)
      : options_(options),
        processes_(processes),
        tracker_(tracker),
        admission_(admission) {}

  grpc::Status WatchGcPauses(
      grpc::ServerContext* context,
      const gspy::v1::WatchGcPausesRequest* request,
      grpc::ServerWriter<gspy::v1::GcPauseEvent>* writer) override;

 private:
  const GcServiceOptions options_;
  ProcessTable* processes_;
  GcTracker* tracker_;
  Admission* admission_;
};

// The q-quantile (0..1) of `sorted` (nearest rank), 0 when empty.
int64_t Quantile(const std::vector<int64_t>& sorted, double q);

}  // namespace gspy

#endif  // GSPY_DAEMON_API_GC_SERVICE_H_
