// Merging pprof profiles of the same type (e.g. one per node of a cluster)
// into one, as `go tool pprof` does with several inputs: samples are kept
// apart (their labels tell them apart), functions shared by name.
#ifndef GSPY_PROFILE_PPROF_PROFILE_MERGE_H_
#define GSPY_PROFILE_PPROF_PROFILE_MERGE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "proto/pprof/profile.pb.h"

namespace gspy {

// INVALID_ARGUMENT when the inputs' sample types differ or there are none.
// Inputs must be valid (as DecodeProfile returns them).
absl::StatusOr<perftools::profiles::Profile> MergeProfiles(
    const std::vector<perftools::profiles::Profile>& profiles);

}  // namespace gspy

#endif  // GSPY_PROFILE_PPROF_PROFILE_MERGE_H_
