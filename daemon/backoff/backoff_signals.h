// BackoffSignals from the machine: gspyd's CPU time and resident memory, the
// ring-buffer loss counters, and the node's pressure stall information
// (/proc/pressure/{cpu,memory}). Each reading that cannot be had (no PSI on
// this kernel, an unreadable file) is left out, not an error: the governor
// never backs off for a signal it does not have.
#ifndef GSPY_DAEMON_BACKOFF_BACKOFF_SIGNALS_H_
#define GSPY_DAEMON_BACKOFF_BACKOFF_SIGNALS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/backoff/backoff_governor.h"

namespace gspy {

// The "avg10" of the "some" line of a PSI file ("some avg10=1.23 avg60=...
// total=..."), in percent; nullopt when the text has no such value in
// [0, 100].
std::optional<double> ParsePsiSomeAvg10(absl::string_view text);

struct SignalSources {
  // gspyd's CPU time so far, in ns; negative: unknown.
  std::function<int64_t()> cpu_ns;
  // gspyd's resident memory, in bytes; negative: unknown.
  std::function<int64_t()> rss_bytes;
  // Records the ring buffers lost so far (a counter); null: none.
  std::function<uint64_t()> ring_losses_total;
  // Where cpu and memory PSI files are; empty: no PSI signal.
  std::string psi_dir = "/proc/pressure";
};

// The process's own: CLOCK_PROCESS_CPUTIME_ID and /proc/self/statm.
SignalSources SelfSignalSources();

class SignalReader {
 public:
  explicit SignalReader(SignalSources sources) : sources_(std::move(sources)) {}

  // This tick's readings; CPU use and losses are since the previous call
  // (the first call has no CPU reading).
  BackoffSignals Read(absl::Time now);

 private:
  SignalSources sources_;
  bool first_ = true;
  absl::Time last_time_;
  int64_t last_cpu_ns_ = 0;
  uint64_t last_losses_ = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_BACKOFF_BACKOFF_SIGNALS_H_
