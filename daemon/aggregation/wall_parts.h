// A wall-clock profile from its three parts over one window: the CPU
// profile (goroutines running) and the waiting and runnable BlockProfiles,
// each sample labelled state=running|waiting|runnable. Shared by wall pulls
// (daemon/api/wall_pull.cc) and continuous mode (daemon/export/push).
#ifndef GSPY_DAEMON_AGGREGATION_WALL_PARTS_H_
#define GSPY_DAEMON_AGGREGATION_WALL_PARTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/pprof/profile.pb.h"

namespace gspy {

// The parts are gzip-compressed pprofs of two sample types each (count,
// nanoseconds); the result has samples/count and wall/nanoseconds, period
// wall/nanoseconds.
absl::StatusOr<perftools::profiles::Profile> MergeWallParts(
    const std::string& running, const std::string& waiting,
    const std::string& runnable);

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_WALL_PARTS_H_
