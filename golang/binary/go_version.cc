#include "golang/binary/go_version.h"

#include <cctype>

namespace gspy {

std::optional<int> GoMinorVersion(std::string_view version) {
  size_t pos = version.find("go1.");
  if (pos == std::string_view::npos) return std::nullopt;
  pos += 4;
  int minor = 0;
  size_t digits = 0;
  while (pos < version.size() && digits < 4 &&
         std::isdigit(static_cast<unsigned char>(version[pos]))) {
    minor = minor * 10 + (version[pos] - '0');
    ++pos;
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  return minor;
}

}  // namespace gspy
