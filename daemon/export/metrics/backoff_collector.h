// The back-off's series: the effective CPU sampling rate, the scale gspyd
// applies to its rates and which signal set it.
#ifndef GSPY_DAEMON_EXPORT_METRICS_BACKOFF_COLLECTOR_H_
#define GSPY_DAEMON_EXPORT_METRICS_BACKOFF_COLLECTOR_H_

#include "base/metrics_registry.h"
#include "daemon/backoff/backoff_loop.h"
#include "daemon/sources/cpu/cpu_sampler.h"

namespace gspy {

// `loop` or `sampler` may be null (their series are then left out).
void CollectBackoff(const BackoffLoop* loop, const CpuSampler* sampler,
                    MetricFamilies* out);

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_BACKOFF_COLLECTOR_H_
