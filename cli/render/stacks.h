// Shared by the folded and SVG renderers: turns a decoded pprof profile into
// merged root-to-leaf stacks of frame names.
#ifndef GSPY_CLI_RENDER_STACKS_H_
#define GSPY_CLI_RENDER_STACKS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "cli/render/flame_graph.h"
#include "proto/pprof/profile.pb.h"

namespace gspy {
namespace render_internal {

struct Stacks {
  // Root first, inlined frames expanded (caller before callee). With
  // group_by_label the first frame is "key=value". Identical stacks merged;
  // std::map keeps the order deterministic.
  std::map<std::vector<std::string>, int64_t> stacks;
  int64_t total = 0;
  std::string value_type;  // "cpu"
  std::string value_unit;  // "nanoseconds"
};

// One frame of a stack as the HTML renderer shows it: the function (or the
// "key=value" group, or "0x..." when unsymbolized), its file and line.
struct Frame {
  std::string name;
  std::string file;  // empty when unknown
  int64_t line = 0;
};

// The sample type the chosen value measures.
struct ValueKind {
  std::string type;  // "cpu"
  std::string unit;  // "nanoseconds"
};

// Calls visit(frames, value) for every sample with a positive value, frames
// root first as in Stacks (not merged). The rules and errors are
// CollectStacks's, which is built on it.
absl::StatusOr<ValueKind> ForEachStack(
    const perftools::profiles::Profile& profile, const RenderOptions& options,
    absl::FunctionRef<void(const std::vector<Frame>&, int64_t)> visit);

// Samples whose chosen value is <= 0 are skipped: a flame graph cannot draw
// negative widths (diff profiles) and zero adds nothing. Sums saturate
// instead of overflowing. Errors on a bad value_index or on indices out of
// range (the profile need not have gone through DecodeProfile).
absl::StatusOr<Stacks> CollectStacks(
    const perftools::profiles::Profile& profile, const RenderOptions& options);

// OK when both measure the same sample type and unit; a diff of a CPU and a
// heap profile means nothing.
absl::Status CheckSameKind(const Stacks& base, const Stacks& current);

// a + b clamped to INT64_MAX (both non-negative).
int64_t SaturatingAdd(int64_t a, int64_t b);

}  // namespace render_internal
}  // namespace gspy

#endif  // GSPY_CLI_RENDER_STACKS_H_
