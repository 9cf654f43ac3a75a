// BlockTracker against the real kernel (the tests run as root): what happens
// when a process cannot be probed.
#include "daemon/sources/block/block_tracker.h"

#include <dirent.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "tests/unit/testing/fake_go_binary.h"

namespace gspy {
namespace {

int OpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n;
}

class NullSink : public BlockSink {
 public:
  void AddWait(const gspy_block_event&, absl::Span<const uint64_t>) override {
    ++waits;
  }
  int waits = 0;
};

TEST(BlockTrackerTest,
     ARuntimeWithoutAProbedFunctionIsAClearErrorAndLeaksNothing) {
  absl::StatusOr<std::unique_ptr<BlockTracker>> tracker =
      BlockTracker::Start(BlockTrackerOptions{});
  ASSERT_TRUE(tracker.ok())
      << tracker.status() << " (the unit tests load BPF: run them as root)";
  const int fds_before = OpenFds();
  // This test's own process, with a Go binary whose runtime has no gopark.
  GoProcess proc = testing::FakeProcess(getpid());
  NullSink sink;
  absl::Status s = (*tracker)->Subscribe(proc, &sink).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("runtime.gopark"), std::string::npos) << s;
  EXPECT_NE(s.message().find("go1.26.8"), std::string::npos) << s;
  EXPECT_EQ((*tracker)->attached_processes(), 0u);
  EXPECT_FALSE((*tracker)->Attached(getpid()));
  EXPECT_EQ((*tracker)->EndStats(&sink).lost, 0u);
  EXPECT_EQ(OpenFds(), fds_before);
}

TEST(BlockTrackerTest, AProcessThatIsGoneIsNotFound) {
  absl::StatusOr<std::unique_ptr<BlockTracker>> tracker =
      BlockTracker::Start(BlockTrackerOptions{});
  ASSERT_TRUE(tracker.ok()) << tracker.status();
  // Pid numbers run up to pid_max (at most 2^22): this one cannot exist.
  GoProcess proc = testing::FakeProcess(1 << 23);
  NullSink sink;
  absl::Status s = (*tracker)->Subscribe(proc, &sink).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_EQ((*tracker)->attached_processes(), 0u);
}

}  // namespace
}  // namespace gspy
