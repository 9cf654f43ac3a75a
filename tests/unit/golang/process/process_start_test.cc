#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "absl/status/statusor.h"
#include "golang/process/go_process.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(ProcessStartTicksTest, NamesOneProcess) {
  absl::StatusOr<uint64_t> self = ProcessStartTicks(getpid());
  ASSERT_TRUE(self.ok()) << self.status();
  EXPECT_EQ(*ProcessStartTicks(getpid()), *self);  // stable
  // A child starts after this process.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  absl::StatusOr<uint64_t> started = ProcessStartTicks(child);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_GE(*started, *self);
  EXPECT_EQ(ProcessStartTicks(child).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace gspy
