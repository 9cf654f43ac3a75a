// Progress of a long pull on the terminal: "gspy: cpu profile: 12s of 30s,
// 18s left, 1187 samples", redrawn in place while the request waits, erased
// when it ends. Only when stderr is a terminal: a pipe, a file or CI logs
// get nothing. The samples are gspyd's count so far (PullProfile's progress
// messages); they are left out until the first one arrives.
#ifndef GSPY_CLI_PULL_PROGRESS_H_
#define GSPY_CLI_PULL_PROGRESS_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace gspy {

class PullProgress {
 public:
  // Starts drawing to fd every `redraw` when fd is a terminal; does nothing
  // otherwise. `what` names the pull ("cpu profile").
  PullProgress(int fd, std::string what, absl::Duration duration,
               absl::Duration redraw = absl::Seconds(1));
  // Stops and erases the line.
  ~PullProgress();
  PullProgress(const PullProgress&) = delete;
  PullProgress& operator=(const PullProgress&) = delete;

  bool enabled() const { return thread_.joinable(); }

  // What gspyd has recorded so far; shown from the next redraw.
  void set_samples(int64_t samples) { samples_.store(samples); }
  int64_t samples() const { return samples_.load(); }  // -1: none yet

  // The text for `elapsed` into a pull of `duration`: elapsed and time
  // left, then, past the duration, how long gspyd has been building the
  // answer; with `samples` >= 0, the samples so far.
  static std::string Line(const std::string& what, absl::Duration elapsed,
                          absl::Duration duration, int64_t samples = -1);

 private:
  void Run();

  const int fd_;
  const std::string what_;
  const absl::Duration duration_;
  const absl::Duration redraw_;
  const absl::Time start_;
  std::atomic<int64_t> samples_{-1};  // -1: not known yet
  absl::Notification done_;
  std::thread thread_;
};

}  // namespace gspy

#endif  // GSPY_CLI_PULL_PROGRESS_H_
