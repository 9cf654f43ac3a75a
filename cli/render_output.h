// Writes a profile rendered for people into a file, in the format its name
// asks for: .html (interactive flame graph), .svg, .folded. Shared by the
// pulls (`gspy profile ... -o`) and `gspy view` / `gspy diff`.
#ifndef GSPY_CLI_RENDER_OUTPUT_H_
#define GSPY_CLI_RENDER_OUTPUT_H_

#include <string>

#include "absl/status/status.h"
#include "cli/render/flame_graph.h"
#include "proto/pprof/profile.pb.h"

namespace gspy {

// True for the names WriteRendered and WriteRenderedDiff take.
bool IsRenderedOutput(const std::string& path);

absl::Status WriteRendered(const std::string& path,
                           const perftools::profiles::Profile& profile,
                           const RenderOptions& options);

// The differential forms: frames coloured by change from base to current.
absl::Status WriteRenderedDiff(const std::string& path,
                               const perftools::profiles::Profile& base,
                               const perftools::profiles::Profile& current,
                               const RenderOptions& options);

}  // namespace gspy

#endif  // GSPY_CLI_RENDER_OUTPUT_H_
