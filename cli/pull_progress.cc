#include "cli/pull_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gspy {
namespace {

std::string Seconds(absl::Duration d) {
  return absl::StrFormat("%.0fs", std::floor(absl::ToDoubleSeconds(d)));
}

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;  // a closed terminal: nothing to show it on
    done += static_cast<size_t>(n);
  }
}

// Back to the start of the line, and erase it.
constexpr char kEraseLine[] = "\r\033[K";

}  // namespace

PullProgress::PullProgress(int fd, std::string what, absl::Duration duration,
                           absl::Duration redraw)
    : fd_(fd),
      what_(std::move(what)),
      duration_(duration),
      redraw_(redraw),
      start_(absl::Now()) {
  if (isatty(fd_) == 1) thread_ = std::thread([this] { Run(); });
}

PullProgress::~PullProgress() {
  if (!thread_.joinable()) return;
  done_.Notify();
  thread_.join();
  WriteAll(fd_, kEraseLine);
}

std::string PullProgress::Line(const std::string& what, absl::Duration elapsed,
                               absl::Duration duration, int64_t samples) {
  const std::string so_far =
      samples >= 0
          ? absl::StrCat(", ", samples, samples == 1 ? " sample" : " samples")
          : "";
  if (elapsed < duration) {
    return absl::StrCat(
        "gspy: ", what, ": ", Seconds(elapsed), " of ", Seconds(duration), ", ",
        Seconds(duration - elapsed + absl::Milliseconds(999)), " left", so_far);
  }
  return absl::StrCat("gspy: ", what, ": ", Seconds(duration),
                      " done; gspyd building the profile (",
                      Seconds(elapsed - duration), ")", so_far);
}

void PullProgress::Run() {
  do {
    WriteAll(fd_, absl::StrCat(kEraseLine, Line(what_, absl::Now() - start_,
                                                duration_, samples_.load())));
  } while (!done_.WaitForNotificationWithTimeout(redraw_));
}

}  // namespace gspy
