// The block probes as metric families: blocking time by process and wait
// reason (over the pulls that ran: the probes are only attached then), and
// the probes' own health (parks, losses, duty cycling, attached binaries).
// And the sampled counterpart, always on where continuous mode sweeps the
// goroutines (block or wall pushed): waiting time estimated from sweeps.
#ifndef GSPY_DAEMON_EXPORT_METRICS_BLOCK_COLLECTOR_H_
#define GSPY_DAEMON_EXPORT_METRICS_BLOCK_COLLECTOR_H_

#include "base/metrics_registry.h"
#include "daemon/aggregation/sampled_wait_totals.h"
#include "daemon/sources/block/block_tracker.h"

namespace gspy {

void CollectBlock(BlockTracker* tracker, MetricFamilies* out);
void CollectSampledBlock(const SampledWaitTotals& totals, MetricFamilies* out);

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_BLOCK_COLLECTOR_H_
