// libFuzzer target for ParsePsiSomeAvg10 (a /proc/pressure file, or
// whatever --backoff-psi-dir points at). Checks what the parser promises: a
// value is a percentage, found after "avg10=" in the text.
// Seeds: corpus/psi/ (the kernel's cpu, memory and io formats).
#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "daemon/backoff/backoff_signals.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const std::optional<double> v = gspy::ParsePsiSomeAvg10(text);
  if (!v.has_value()) return 0;
  if (!(*v >= 0 && *v <= 100)) __builtin_trap();
  if (text.find("some ") == absl::string_view::npos ||
      text.find("avg10=") == absl::string_view::npos) {
    __builtin_trap();
  }
  return 0;
}
