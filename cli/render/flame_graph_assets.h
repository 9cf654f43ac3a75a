// The flame-graph library embedded in gspy's HTML output, generated at build
// time from the npm packages in cli/render/html (see its README.md).
#ifndef GSPY_CLI_RENDER_FLAME_GRAPH_ASSETS_H_
#define GSPY_CLI_RENDER_FLAME_GRAPH_ASSETS_H_

namespace gspy {
namespace render_internal {

// d3-flame-graph's UMD build after the d3 modules it reads from the global
// `d3`; checked at build time to hold no "</script".
extern const char kFlameGraphScripts[];
// gspy's own code around it (html/gspy_flame.js), likewise checked.
extern const char kGspyFlameJs[];
// Every embedded package's name, version, licence and LICENSE text; checked
// to hold no "-->".
extern const char kFlameGraphNotices[];

}  // namespace render_internal
}  // namespace gspy

#endif  // GSPY_CLI_RENDER_FLAME_GRAPH_ASSETS_H_
