// Turns a profile bucket's stack into pprof locations the way runtime/pprof
// does (profileBuilder.appendLocsForStack), shared by the heap, block and
// mutex profiles.
#ifndef GSPY_GOLANG_PROFILES_STACK_LOCATIONS_H_
#define GSPY_GOLANG_PROFILES_STACK_LOCATIONS_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "golang/binary/go_binary.h"
#include "golang/process/go_process.h"
#include "golang/profiles/bucket_pprof_options.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {

// The executable's mapping, covering every mapping of the file, as
// runtime/pprof writes it.
uint64_t AddExecutableMapping(const GoProcess& proc, ProfileBuilder* builder);

// Applies BucketPprofOptions to the samples of one profile: whether a
// stack passes the filter, the labels to add, and the comment saying what
// the filter kept.
class SampleOptions {
 public:
  SampleOptions(const GoProcess& proc, const BucketPprofOptions& options);
  // Whether the sample of `stk` (return addresses) passes; `weight` is
  // counted for the comment.
  bool Keep(const std::vector<uint64_t>& stk, double weight);
  void AppendLabels(std::vector<SampleLabel>* labels) const;
  // "filter F kept X of Y UNIT" when filtering.
  void Report(absl::string_view unit, ProfileBuilder* builder) const;

 private:
  const GoProcess& proc_;
  const BucketPprofOptions& options_;
  std::vector<Frame> frames_;
  std::vector<absl::string_view> functions_;
  double kept_ = 0, seen_ = 0;
};

class StackLocator {
 public:
  StackLocator(const GoProcess& proc, ProfileBuilder* builder, uint64_t mapping)
      : proc_(proc), b_(builder), mapping_(mapping) {}

  // A heap bucket's stack: the runtime saved one pc per logical frame (an
  // inlined call's pc is its inline mark + 1); leading runtime frames
  // (mallocgc's callers such as makeslice) are hidden unless that leaves
  // nothing, as writeHeapProto does.
  std::vector<uint64_t> HeapLocations(const std::vector<uint64_t>& stk,
                                      int minor);

  // A block or mutex bucket's stack. go1.18..1.22: logical pcs (callers()),
  // given to appendLocsForStack as they are. go1.23+: physical return
  // addresses (frame-pointer unwinding) or, after a sentinel, logical pcs,
  // which printCountCycleProfile first expands with runtime.CallersFrames
  // (expandInlinedFrames): that drops every pc outside Go code (the
  // sentinel among them). Nothing is hidden.
  std::vector<uint64_t> CountCycleLocations(const std::vector<uint64_t>& stk,
                                            int minor);

 private:
  // One logical frame: the pc it came from and its innermost function.
  struct Logical {
    uint64_t pc = 0;
    bool symbolized = false;
    Frame frame;
    uint64_t entry = 0;
  };
  Logical Innermost(uint64_t pc);
  std::vector<uint64_t> Walk(const std::vector<Logical>& frames);
  void Flush(std::vector<uint64_t>* locs);

  const GoProcess& proc_;
  ProfileBuilder* b_;
  const uint64_t mapping_;
  std::vector<Frame> tmp_, deck_;
  uint64_t deck_pc_ = 0, deck_entry_ = 0;
};

}  // namespace gspy

#endif  // GSPY_GOLANG_PROFILES_STACK_LOCATIONS_H_
