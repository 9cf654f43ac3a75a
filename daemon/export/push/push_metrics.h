// The push counters as Prometheus metrics (--metrics-listen), labelled by
// backend: gspy_push_profiles_total, gspy_push_requests_total,
// gspy_push_request_errors_total, gspy_push_retries_total,
// gspy_push_dropped_profiles_total{reason}, gspy_push_queue_profiles,
// gspy_push_queue_bytes, and gspy_continuous_* of the profiler.
#ifndef GSPY_DAEMON_EXPORT_PUSH_PUSH_METRICS_H_
#define GSPY_DAEMON_EXPORT_PUSH_PUSH_METRICS_H_

#include <vector>

#include "base/metrics_registry.h"
#include "daemon/export/push/continuous_profiler.h"
#include "daemon/export/push/push_sender.h"

namespace gspy {

void AppendPushFamilies(const std::vector<PushSenderStats>& senders,
                        const ContinuousStats& profiler, MetricFamilies* out);

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_PUSH_METRICS_H_
