// The pull progress line: drawn on a terminal (a pseudo-terminal here),
// nothing on a pipe.
#include "cli/pull_progress.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"

namespace gspy {
namespace {

// Everything readable on fd now (it is non-blocking).
std::string Drain(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST(PullProgressTest, LineHasElapsedAndLeft) {
  EXPECT_EQ(
      PullProgress::Line("cpu profile", absl::Seconds(12), absl::Seconds(30)),
      "gspy: cpu profile: 12s of 30s, 18s left");
  EXPECT_EQ(PullProgress::Line("cpu profile", absl::Milliseconds(12500),
                               absl::Seconds(30)),
            "gspy: cpu profile: 12s of 30s, 18s left");
  EXPECT_EQ(
      PullProgress::Line("wall profile", absl::Seconds(33), absl::Seconds(30)),
      "gspy: wall profile: 30s done; gspyd building the profile (3s)");
}

TEST(PullProgressTest, LineHasSamplesOnceKnown) {
  EXPECT_EQ(PullProgress::Line("cpu profile", absl::Seconds(12),
                               absl::Seconds(30), 1187),
            "gspy: cpu profile: 12s of 30s, 18s left, 1187 samples");
  EXPECT_EQ(PullProgress::Line("block profile", absl::Seconds(2),
                               absl::Seconds(30), 1),
            "gspy: block profile: 2s of 30s, 28s left, 1 sample");
  EXPECT_EQ(PullProgress::Line("cpu profile", absl::Seconds(31),
                               absl::Seconds(30), 0),
            "gspy: cpu profile: 30s done; gspyd building the profile (1s), "
            "0 samples");
}

TEST(PullProgressTest, SilentOnAPipe) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
  {
    PullProgress p(fds[1], "cpu profile", absl::Seconds(1),
                   absl::Milliseconds(10));
    EXPECT_FALSE(p.enabled());
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Drain(fds[0]), "");
  close(fds[0]);
  close(fds[1]);
}

TEST(PullProgressTest, DrawsAndErasesOnATerminal) {
  int master, slave;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  ASSERT_EQ(fcntl(master, F_SETFL, O_NONBLOCK), 0);
  {
    PullProgress p(slave, "cpu profile", absl::Seconds(30),
                   absl::Milliseconds(20));
    EXPECT_TRUE(p.enabled());
    absl::SleepFor(absl::Milliseconds(150));
    p.set_samples(42);  // a progress message from gspyd
    absl::SleepFor(absl::Milliseconds(100));
  }
  absl::SleepFor(absl::Milliseconds(20));
  const std::string out = Drain(master);
  EXPECT_TRUE(absl::StrContains(out, "gspy: cpu profile: 0s of 30s, 30s left"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "30s left, 42 samples")) << out;
  // Redrawn in place, and the line erased at the end.
  EXPECT_GE(out.find("\r\033[K", 1), 1u) << out;
  EXPECT_TRUE(absl::EndsWith(out, "\r\033[K")) << out;
  close(master);
  close(slave);
}

}  // namespace
}  // namespace gspy
