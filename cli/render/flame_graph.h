// Renderings of a pprof profile for people: folded stacks and an SVG flame
// graph. Both read a decoded perftools.profiles.Profile, so they work on any
// pprof (ours or Go's own).
#ifndef GSPY_CLI_RENDER_FLAME_GRAPH_H_
#define GSPY_CLI_RENDER_FLAME_GRAPH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/pprof/profile.pb.h"

namespace gspy {

struct RenderOptions {
  // Index into sample_type of the value to weigh stacks by; -1: the last one
  // (cpu/nanoseconds for CPU profiles, as pprof does).
  int value_index = -1;
  // When non-empty, the label whose value becomes the root frame of each
  // stack ("handler=checkout") and, in the SVG, picks the frame colour.
  std::string group_by_label;
  std::string title = "gspy flame graph";
};

// Folded stacks: one line per distinct stack, "root;...;leaf count", sorted,
// inlined frames expanded (caller before callee). The count is the chosen
// value. With group_by_label, the first element is "key=value" (or
// "key=<none>").
absl::StatusOr<std::string> RenderFolded(
    const perftools::profiles::Profile& profile, const RenderOptions& options);

// A self-contained SVG flame graph: frame width proportional to its value,
// root at the bottom, names truncated to fit, a <title> per frame with the
// full name, value and percentage. Colours by label value when grouped,
// else by package.
absl::StatusOr<std::string> RenderFlameGraphSvg(
    const perftools::profiles::Profile& profile, const RenderOptions& options);

}  // namespace gspy

#endif  // GSPY_CLI_RENDER_FLAME_GRAPH_H_
