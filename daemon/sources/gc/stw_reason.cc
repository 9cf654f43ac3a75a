#include "daemon/sources/gc/stw_reason.h"

#include <array>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

// runtime.stwReasonStrings, identical in Go 1.21 through 1.27 (checked
// against each release's src/runtime/proc.go).
constexpr std::array<std::string_view, 17> kReasons121 = {
    "unknown",
    "GC mark termination",
    "GC sweep termination",
    "write heap dump",
    "goroutine profile",
    "goroutine profile cleanup",
    "all goroutines stack trace",
    "read mem stats",
    "AllThreadsSyscall",
    "GOMAXPROCS",
    "start trace",
    "stop trace",
    "CountPagesInUse (test)",
    "ReadMetricsSlow (test)",
    "ReadMemStatsSlow (test)",
    "PageCachePagesLeaked (test)",
    "ResetDebugLog (test)",
};

constexpr int kFirstKnownMinor = 21;
constexpr int kLastKnownMinor = 27;

}  // namespace

StwAbi StwAbiFor(int go_minor) {
  StwAbi abi;
  abi.has_reason = go_minor >= 21;
  abi.has_now = go_minor >= 22;
  return abi;
}

std::string StwReasonName(int go_minor, int reason) {
  // Older releases pass no reason; the pairer infers the GC's two.
  if (go_minor < kFirstKnownMinor && (reason == 0 || IsGcStwReason(reason))) {
    return std::string(kReasons121[reason]);
  }
  if (go_minor >= kFirstKnownMinor && go_minor <= kLastKnownMinor &&
      reason >= 0 && reason < static_cast<int>(kReasons121.size())) {
    return std::string(kReasons121[reason]);
  }
  return absl::StrCat("unknown(", reason, ")");
}

}  // namespace gspy
