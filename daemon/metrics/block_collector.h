// The block probes as metric families: blocking time by process and wait
// reason (over the pulls that ran: the probes are only attached then), and
// the probes' own health (parks, losses, duty cycling, attached binaries).
#ifndef GSPY_DAEMON_METRICS_BLOCK_COLLECTOR_H_
#define GSPY_DAEMON_METRICS_BLOCK_COLLECTOR_H_

#include "daemon/block/block_tracker.h"
#include "daemon/metrics/metrics_registry.h"

namespace gspy {

void CollectBlock(BlockTracker* tracker, MetricFamilies* out);

}  // namespace gspy

#endif  // GSPY_DAEMON_METRICS_BLOCK_COLLECTOR_H_
