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
  // A diff's frame widths: false, the new profile's (what it spends now);
  // true, the base's, so that what shrank or went away is drawn (as
  // flamegraph.pl --negate on swapped inputs). Colours are the same either
  // way: red grew, blue shrank. The HTML page toggles between the two.
  bool diff_widths_from_base = false;
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

// An interactive HTML flame graph in one self-contained file (no network):
// click to zoom, regular-expression search with the matched share, a tooltip
// with function, file:line, value and share, an icicle/flame toggle, and,
// with group_by_label, a colour per label value with a legend. Drawn by the
// embedded d3-flame-graph; every name is embedded as escaped JSON data.
absl::StatusOr<std::string> RenderFlameGraphHtml(
    const perftools::profiles::Profile& profile, const RenderOptions& options);

// Differential flame graphs, as Brendan Gregg's: the shape (widths) is the
// current profile's, or with diff_widths_from_base the base's; a frame's
// colour is its change in share, its share of current minus its share of
// base (each normalised by its own total): red grew, blue shrank,
// saturation relative to the largest change. A frame absent from the
// profile whose widths are drawn has no width. Both profiles use options'
// value index and label.
absl::StatusOr<std::string> RenderDiffHtml(
    const perftools::profiles::Profile& base,
    const perftools::profiles::Profile& current, const RenderOptions& options);
absl::StatusOr<std::string> RenderDiffSvg(
    const perftools::profiles::Profile& base,
    const perftools::profiles::Profile& current, const RenderOptions& options);
// Folded stacks with two counts, "stack base current", as Brendan Gregg's
// difffolded.pl writes them for flamegraph.pl; raw counts, not normalised
// (difffolded.pl -n, flamegraph.pl do that), sorted by stack.
absl::StatusOr<std::string> RenderDiffFolded(
    const perftools::profiles::Profile& base,
    const perftools::profiles::Profile& current, const RenderOptions& options);

}  // namespace gspy

#endif  // GSPY_CLI_RENDER_FLAME_GRAPH_H_
