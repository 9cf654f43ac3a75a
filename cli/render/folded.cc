// Folded stacks, the input format of flamegraph.pl and many other viewers.
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/render/flame_graph.h"
#include "cli/render/stacks.h"

namespace gspy {
namespace {

// ';' separates frames and a newline ends the record; neither may appear
// inside a frame name or the line would be misparsed.
std::string SanitizeFrame(std::string name) {
  for (char& c : name) {
    if (c == ';') c = ':';
    if (c == '\n' || c == '\r') c = ' ';
  }
  return name;
}

}  // namespace

absl::StatusOr<std::string> RenderFolded(
    const perftools::profiles::Profile& profile, const RenderOptions& options) {
  absl::StatusOr<render_internal::Stacks> stacks =
      render_internal::CollectStacks(profile, options);
  if (!stacks.ok()) return stacks.status();

  // Different raw stacks may sanitize to the same line; merge them too and
  // sort by the line text itself.
  std::map<std::string, int64_t> lines;
  for (const auto& [frames, value] : stacks->stacks) {
    std::string line = absl::StrJoin(
        frames, ";", [](std::string* out, const std::string& frame) {
          out->append(SanitizeFrame(frame));
        });
    int64_t& slot = lines[line];
    slot = render_internal::SaturatingAdd(slot, value);
  }
  std::string out;
  for (const auto& [line, value] : lines) {
    absl::StrAppend(&out, line, " ", value, "\n");
  }
  return out;
}

}  // namespace gspy
