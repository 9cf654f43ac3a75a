#include "cli/render_output.h"

#include <fstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

enum class Kind { kHtml, kSvg, kFolded, kUnknown };

Kind KindOf(const std::string& path) {
  if (absl::EndsWith(path, ".html") || absl::EndsWith(path, ".htm")) {
    return Kind::kHtml;
  }
  if (absl::EndsWith(path, ".svg")) return Kind::kSvg;
  if (absl::EndsWith(path, ".folded")) return Kind::kFolded;
  return Kind::kUnknown;
}

absl::Status Write(const std::string& path,
                   const absl::StatusOr<std::string>& text) {
  if (!text.ok()) return text.status();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text->data(), static_cast<std::streamsize>(text->size()));
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::Status Unknown(const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": unknown output type; use .html, .svg or .folded"));
}

}  // namespace

bool IsRenderedOutput(const std::string& path) {
  return KindOf(path) != Kind::kUnknown;
}

absl::Status WriteRendered(const std::string& path,
                           const perftools::profiles::Profile& profile,
                           const RenderOptions& options) {
  switch (KindOf(path)) {
    case Kind::kHtml:
      return Write(path, RenderFlameGraphHtml(profile, options));
    case Kind::kSvg:
      return Write(path, RenderFlameGraphSvg(profile, options));
    case Kind::kFolded:
      return Write(path, RenderFolded(profile, options));
    case Kind::kUnknown:
      break;
  }
  return Unknown(path);
}

absl::Status WriteRenderedDiff(const std::string& path,
                               const perftools::profiles::Profile& base,
                               const perftools::profiles::Profile& current,
                               const RenderOptions& options) {
  switch (KindOf(path)) {
    case Kind::kHtml:
      return Write(path, RenderDiffHtml(base, current, options));
    case Kind::kSvg:
      return Write(path, RenderDiffSvg(base, current, options));
    case Kind::kFolded:
      return Write(path, RenderDiffFolded(base, current, options));
    case Kind::kUnknown:
      break;
  }
  return Unknown(path);
}

}  // namespace gspy
