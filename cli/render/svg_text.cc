#include "cli/render/svg_text.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gspy {
namespace render_internal {
namespace {

// Length of the valid UTF-8 sequence at text[i], or 0 if it is invalid
// (overlong forms, surrogates and out-of-range code points included).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  // U+FFFE and U+FFFF are not XML characters.
  if (cp == 0xFFFE || cp == 0xFFFF) return 0;
  return len;
}

}  // namespace

std::string EscapeXml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t len = Utf8SequenceLength(text, i);
    if (len == 0) {
      out.push_back('?');
      ++i;
      continue;
    }
    if (len > 1) {
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&apos;");
        break;
      default:
        if (static_cast<uint8_t>(c) < 0x20 && c != '\t' && c != '\n' &&
            c != '\r') {
          out.push_back('?');
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string TruncateToChars(std::string_view text, size_t max_chars) {
  if (max_chars < 3) return "";
  // Byte offset after each of the first max_chars - 2 characters, so the
  // cut never splits a multi-byte sequence.
  size_t chars = 0;
  size_t cut = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t len = Utf8SequenceLength(text, i);
    i += len == 0 ? 1 : len;
    ++chars;
    if (chars == max_chars - 2) cut = i;
    if (chars > max_chars) break;
  }
  if (chars <= max_chars) return std::string(text);
  return std::string(text.substr(0, cut)) + "..";
}

}  // namespace render_internal
}  // namespace gspy
