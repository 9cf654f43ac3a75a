// libFuzzer target for the renderers of the CLI (cli/render): a decoded
// pprof, whatever its names, stacks and labels, becomes folded stacks, an
// SVG and an HTML flame graph and their diffs against itself, without a
// crash, and the HTML keeps exactly gspy's three script elements (no name can
// close one). Seeds: corpus/render/ (real runtime/pprof profiles).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "cli/render/flame_graph.h"
#include "profile/pprof/profile_builder.h"

namespace {

size_t Count(const std::string& haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<perftools::profiles::Profile> p = gspy::DecodeProfile(bytes);
  if (!p.ok()) return 0;
  for (const char* group : {"", "handler"}) {
    gspy::RenderOptions o;
    o.group_by_label = group;
    (void)gspy::RenderFolded(*p, o);
    (void)gspy::RenderFlameGraphSvg(*p, o);
    (void)gspy::RenderDiffFolded(*p, *p, o);
    (void)gspy::RenderDiffSvg(*p, *p, o);
    for (const auto& html :
         {gspy::RenderFlameGraphHtml(*p, o), gspy::RenderDiffHtml(*p, *p, o)}) {
      if (!html.ok()) continue;
      const std::string lower = absl::AsciiStrToLower(*html);
      if (Count(lower, "</script") != 3 || Count(lower, "<script") != 3) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
