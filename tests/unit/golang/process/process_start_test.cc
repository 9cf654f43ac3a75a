#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "absl/status/statusor.h"
#include "golang/process/binary_cache.h"
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

// A kernel thread has no executable, nor has a process on its way out: the
// first is not a Go process, the second is gone (not a kernel thread, which
// a dump of an exiting process was once told).
TEST(InspectTest, KernelThreadsAndExitedProcessesAreToldApart) {
  BinaryCache cache;
  ProcessTable table(&cache);
  absl::StatusOr<GoProcess> kthreadd = table.Inspect(2);
  EXPECT_EQ(kthreadd.status().code(), absl::StatusCode::kFailedPrecondition)
      << kthreadd.status();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  // A zombie until reaped.
  while (ProcessRunning(child)) usleep(1000);
  absl::StatusOr<GoProcess> zombie = table.Inspect(child);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(zombie.status().code(), absl::StatusCode::kNotFound)
      << zombie.status();
}

}  // namespace
}  // namespace gspy
