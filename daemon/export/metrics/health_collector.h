// The daemon's own health as metric families: what the CPU sampler's and
// the GC probes' BPF counters say (samples sent, lost, unusable; GC events
// and losses) and how many binaries carry GC probes.
#ifndef GSPY_DAEMON_EXPORT_METRICS_HEALTH_COLLECTOR_H_
#define GSPY_DAEMON_EXPORT_METRICS_HEALTH_COLLECTOR_H_

#include "base/metrics_registry.h"
#include "daemon/sources/cpu/cpu_sampler.h"
#include "daemon/sources/gc/gc_tracker.h"

namespace gspy {

// Either pointer may be null (that part is left out).
void CollectHealth(const CpuSampler* sampler, const GcTracker* gc,
                   MetricFamilies* out);

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_HEALTH_COLLECTOR_H_
