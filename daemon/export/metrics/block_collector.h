// The block probes as metric families: blocking time by process and wait
// reason (over the pulls that ran: the probes are only attached then), and
// the probes' own health (parks, losses, duty cycling, attached binaries).
#ifndef GSPY_DAEMON_EXPORT_METRICS_BLOCK_COLLECTOR_H_
#define GSPY_DAEMON_EXPORT_METRICS_BLOCK_COLLECTOR_H_

#include "daemon/sources/block/block_tracker.h"
#include "base/metrics_registry.h"

namespace gspy {

void CollectBlock(BlockTracker* tracker, MetricFamilies* out);

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_BLOCK_COLLECTOR_H_
