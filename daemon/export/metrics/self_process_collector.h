// gspyd's own resource use under the names Prometheus client libraries give
// it (process_resident_memory_bytes, process_open_fds, ...), so the usual
// dashboards and alerts apply.
#ifndef GSPY_DAEMON_EXPORT_METRICS_SELF_PROCESS_COLLECTOR_H_
#define GSPY_DAEMON_EXPORT_METRICS_SELF_PROCESS_COLLECTOR_H_

#include "base/metrics_registry.h"

namespace gspy {

// Reads /proc/self: RSS and virtual size, open and maximum fds, CPU time,
// start time, threads. A number that cannot be read is left out.
void CollectSelfProcess(MetricFamilies* out);

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_SELF_PROCESS_COLLECTOR_H_
