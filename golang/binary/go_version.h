// Parsing of Go version strings from build info ("go1.26.8", "go1.20",
// "go1.21rc2", "devel go1.27-abcdef ...").
#ifndef GSPY_GOLANG_BINARY_GO_VERSION_H_
#define GSPY_GOLANG_BINARY_GO_VERSION_H_

#include <optional>
#include <string_view>

namespace gspy {

// The minor version (26 for "go1.26.8"), or nullopt when not a go1.N string.
std::optional<int> GoMinorVersion(std::string_view version);

}  // namespace gspy

#endif  // GSPY_GOLANG_BINARY_GO_VERSION_H_
