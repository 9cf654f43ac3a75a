// Names of the Go runtime's stop-the-world reasons (runtime.stwReason), per
// Go version.
#ifndef GSPY_DAEMON_SOURCES_GC_STW_REASON_H_
#define GSPY_DAEMON_SOURCES_GC_STW_REASON_H_

#include <optional>
#include <string>

namespace gspy {

// runtime.stwGCMarkTerm and runtime.stwGCSweepTerm (Go 1.21 and later).
inline constexpr int kStwGcMarkTerm = 1;
inline constexpr int kStwGcSweepTerm = 2;

// How the STW functions of one Go release take their arguments.
struct StwAbi {
  // stopTheWorldWithSema(reason stwReason): the reason is the first argument
  // (Go >= 1.21).
  bool has_reason = false;
  // startTheWorldWithSema(now int64, w worldStop): a non-zero `now` is the
  // time the caller already took as the end of the pause (Go >= 1.22).
  bool has_now = false;
};

StwAbi StwAbiFor(int go_minor);

// The name Go's own stwReasonStrings gives `reason` in Go 1.`go_minor`,
// "unknown(N)" for a value that release does not name (or a release whose
// list gspy does not know).
std::string StwReasonName(int go_minor, int reason);

// Whether the pause counts as a GC pause (/sched/pauses/total/gc:seconds).
inline bool IsGcStwReason(int reason) {
  return reason == kStwGcMarkTerm || reason == kStwGcSweepTerm;
}

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_GC_STW_REASON_H_
