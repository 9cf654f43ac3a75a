// StackLocations: turns the raw user stacks of profiled processes into pprof
// locations, symbolized with inlined frames, with one pprof mapping per
// mapped file of each process, made on first use. Shared by every profile
// type's builder.
#ifndef GSPY_DAEMON_AGGREGATION_STACK_LOCATIONS_H_
#define GSPY_DAEMON_AGGREGATION_STACK_LOCATIONS_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "profile/pprof/profile_builder.h"
#include "golang/process/go_process.h"

namespace gspy {

class StackLocations {
 public:
  explicit StackLocations(ProfileBuilder* builder) : builder_(builder) {}

  // Appends to `locations` the location ids of `user`: runtime addresses of
  // `proc`, leaf first, the leaf an exact pc and the others return
  // addresses.
  void AppendUser(const GoProcess& proc, absl::Span<const uint64_t> user,
                  std::vector<uint64_t>* locations);

 private:
  uint64_t MappingFor(const GoProcess& proc, const MemoryMapping& m);

  ProfileBuilder* const builder_;
  absl::flat_hash_map<std::pair<int, uint64_t>, uint64_t> mapping_ids_;
  std::vector<Frame> frames_;
};

// The function names of `user` (as AppendUser symbolizes it), inlined
// frames included, leaf first; views into the binary's storage.
void AppendFunctionNames(const GoProcess& proc, absl::Span<const uint64_t> user,
                         std::vector<absl::string_view>* names);

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_STACK_LOCATIONS_H_
