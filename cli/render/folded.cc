// Folded stacks, the input format of flamegraph.pl and many other viewers.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
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

std::string FoldedLine(const std::vector<std::string>& frames) {
  return absl::StrJoin(frames, ";",
                       [](std::string* out, const std::string& frame) {
                         out->append(SanitizeFrame(frame));
                       });
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
    int64_t& slot = lines[FoldedLine(frames)];
    slot = render_internal::SaturatingAdd(slot, value);
  }
  std::string out;
  for (const auto& [line, value] : lines) {
    absl::StrAppend(&out, line, " ", value, "\n");
  }
  return out;
}

absl::StatusOr<std::string> RenderDiffFolded(
    const perftools::profiles::Profile& base,
    const perftools::profiles::Profile& current, const RenderOptions& options) {
  absl::StatusOr<render_internal::Stacks> before =
      render_internal::CollectStacks(base, options);
  if (!before.ok()) return before.status();
  absl::StatusOr<render_internal::Stacks> now =
      render_internal::CollectStacks(current, options);
  if (!now.ok()) return now.status();
  if (absl::Status s = render_internal::CheckSameKind(*before, *now); !s.ok()) {
    return s;
  }
  // Per line: {base, current}.
  std::map<std::string, std::pair<int64_t, int64_t>> lines;
  for (const auto& [frames, value] : before->stacks) {
    int64_t& slot = lines[FoldedLine(frames)].first;
    slot = render_internal::SaturatingAdd(slot, value);
  }
  for (const auto& [frames, value] : now->stacks) {
    int64_t& slot = lines[FoldedLine(frames)].second;
    slot = render_internal::SaturatingAdd(slot, value);
  }
  std::string out;
  for (const auto& [line, values] : lines) {
    absl::StrAppend(&out, line, " ", values.first, " ", values.second, "\n");
  }
  return out;
}

}  // namespace gspy
