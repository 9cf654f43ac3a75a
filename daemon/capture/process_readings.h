// ProcessReadings: what the capture rules measure of one Go process, read
// from outside at each look, with no probe and no stop (the "zero-trap"
// sources): the runtime's books (GC pause ring, scheduling-latency
// histogram; golang/books), the goroutine heads (golang/goroutines, states
// only) and /proc/PID/stat for CPU time. Metrics "since the last look"
// (pauses, growth, p99, CPU) have no value on the first look: it is their
// baseline.
#ifndef GSPY_DAEMON_CAPTURE_PROCESS_READINGS_H_
#define GSPY_DAEMON_CAPTURE_PROCESS_READINGS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/capture/capture_rule.h"
#include "golang/books/runtime_books.h"
#include "golang/goroutines/allgs_finder.h"
#include "golang/process/go_process.h"

namespace gspy {

// The metrics one look read: each a value, or why there is none
// (UNAVAILABLE on a baseline look).
struct Readings {
  absl::Time at;
  absl::StatusOr<double> value[5] = {
      absl::UnknownError("unread"), absl::UnknownError("unread"),
      absl::UnknownError("unread"), absl::UnknownError("unread"),
      absl::UnknownError("unread")};
  const absl::StatusOr<double>& of(CaptureMetric m) const {
    return value[static_cast<int>(m)];
  }
};

// The q-quantile (0..1) of a histogram's counts: the upper boundary of the
// bucket that holds it (the lower one for the +Inf bucket); 0 when empty.
// `boundaries` has one more entry than `counts`.
double HistogramQuantile(const std::vector<uint64_t>& counts,
                         const std::vector<double>& boundaries, double q);

// CPU time (user + system) of /proc/PID/stat's text, in clock ticks.
absl::StatusOr<uint64_t> ParseStatCpuTicks(const std::string& stat);

class ProcessReadings {
 public:
  // `process` as the process table lists it; `processes` must outlive this.
  ProcessReadings(const ProcessTable* processes, GoProcess process);
  ~ProcessReadings();

  // Reads the metrics named in `needed` (indexed by CaptureMetric).
  Readings Look(const bool needed[5]);

  // The runtime books of the last look that read them, as text
  // ("/gc/heap/goal:bytes 12345", histograms by their count, p50, p99 and
  // max), for a capture; reads them now if no look did.
  std::string BooksText();

  const GoProcess& process() const { return process_; }

 private:
  absl::Status OpenBooks();
  absl::StatusOr<BooksSnapshot> ReadBooks();

  const ProcessTable* const processes_;
  const GoProcess process_;
  uint64_t load_bias_ = 0;
  bool inspected_ = false;
  std::unique_ptr<RuntimeBooks> books_;
  // Books that could not be opened are tried again after a while, not at
  // every look.
  absl::Status open_error_;
  absl::Time next_open_ = absl::InfinitePast();
  std::optional<BooksSnapshot> last_books_;
  std::vector<uint64_t> last_sched_counts_;
  bool have_pause_baseline_ = false;
  AllgsLocation allgs_;
  bool have_allgs_ = false;
  std::optional<std::pair<absl::Time, int64_t>> last_goroutines_;
  std::optional<std::pair<absl::Time, uint64_t>> last_cpu_ticks_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_CAPTURE_PROCESS_READINGS_H_
