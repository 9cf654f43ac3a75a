// JSON strings safe to embed in an HTML <script> element. The text comes from
// the target (function names, file names, label values): hostile.
#ifndef GSPY_CLI_RENDER_JSON_TEXT_H_
#define GSPY_CLI_RENDER_JSON_TEXT_H_

#include <string>
#include <string_view>

namespace gspy {
namespace render_internal {

// Appends s as a quoted JSON string that is also inert inside <script>:
// '<', '>' and '&' become \u003c, \u003e, \u0026 (so no "</script" or
// "<!--" can appear), control characters and U+2028/U+2029 are escaped, and
// bytes that are not valid UTF-8 become U+FFFD (JSON.parse wants UTF-8).
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace render_internal
}  // namespace gspy

#endif  // GSPY_CLI_RENDER_JSON_TEXT_H_
