// Text helpers for the SVG renderer: XML escaping and width-bounded
// truncation of frame names.
#ifndef GSPY_CLI_RENDER_SVG_TEXT_H_
#define GSPY_CLI_RENDER_SVG_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace gspy {
namespace render_internal {

// Escapes & < > " ' for use in XML text and attribute values. Bytes that
// would make the document ill-formed (invalid UTF-8, control characters
// other than tab/newline/CR) become '?': symbol names come from untrusted
// binaries and one bad byte must not break the whole SVG.
std::string EscapeXml(std::string_view text);

// Keeps at most `max_chars` UTF-8 characters; a name that does not fit is
// cut and ends in "..", as flamegraph.pl does. Returns "" when not even
// three characters fit.
std::string TruncateToChars(std::string_view text, size_t max_chars);

}  // namespace render_internal
}  // namespace gspy

#endif  // GSPY_CLI_RENDER_SVG_TEXT_H_
