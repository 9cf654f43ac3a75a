#include "golang/goroutines/valid_utf8.h"

#include <cstdint>

namespace gspy {
namespace {

// Length of the UTF-8 sequence at the start of `s`, 0 if there is none.
size_t SequenceLength(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const auto cont = [&](size_t i, uint8_t lo = 0x80, uint8_t hi = 0xbf) {
    return i < s.size() && b(i) >= lo && b(i) <= hi;
  };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    // E0: no overlong forms; ED: no surrogates (U+D800-DFFF).
    const uint8_t lo = c == 0xe0 ? 0xa0 : 0x80;
    const uint8_t hi = c == 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    // F0: no overlong forms; F4: nothing past U+10FFFF.
    const uint8_t lo = c == 0xf0 ? 0x90 : 0x80;
    const uint8_t hi = c == 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

}  // namespace

std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool in_bad_run = false;
  while (!s.empty()) {
    const size_t n = SequenceLength(s);
    if (n == 0) {
      if (!in_bad_run) out.append("\xef\xbf\xbd");  // U+FFFD
      in_bad_run = true;
      s.remove_prefix(1);
      continue;
    }
    in_bad_run = false;
    out.append(s.substr(0, n));
    s.remove_prefix(n);
  }
  return out;
}

}  // namespace gspy
