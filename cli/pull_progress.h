// Progress of a long pull on the terminal: "gspy: profiling 12s of 30s, 18s
// left", redrawn in place while the request waits, erased when it ends.
// Only when stderr is a terminal: a pipe, a file or CI logs get nothing.
//
// Samples so far are not shown: GetProfile is one request and one answer,
// and gspyd sends no count before the end; the final "wrote ..." line has
// the count.
#ifndef GSPY_CLI_PULL_PROGRESS_H_
#define GSPY_CLI_PULL_PROGRESS_H_

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

  // The text for `elapsed` into a pull of `duration`: elapsed and time
  // left, then, past the duration, how long gspyd has been building the
  // answer.
  static std::string Line(const std::string& what, absl::Duration elapsed,
                          absl::Duration duration);

 private:
  void Run();

  const int fd_;
  const std::string what_;
  const absl::Duration duration_;
  const absl::Duration redraw_;
  const absl::Time start_;
  absl::Notification done_;
  std::thread thread_;
};

}  // namespace gspy

#endif  // GSPY_CLI_PULL_PROGRESS_H_
