// HeapReleaser trims at most once an interval; a trim gives back what a
// freed burst left in the arenas.
#include "daemon/backoff/heap_release.h"

#include <cstdint>
#include <memory>
#include <vector>

#include "daemon/backoff/backoff_signals.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(HeapReleaser, AtMostOnceAnInterval) {
  HeapReleaser r(absl::Seconds(10));
  const absl::Time t = absl::UnixEpoch();
  EXPECT_TRUE(r.MaybeRelease(t));
  EXPECT_FALSE(r.MaybeRelease(t + absl::Seconds(5)));
  EXPECT_FALSE(r.MaybeRelease(t + absl::Seconds(9)));
  EXPECT_TRUE(r.MaybeRelease(t + absl::Seconds(10)));
  EXPECT_FALSE(r.MaybeRelease(t + absl::Seconds(19)));
}

TEST(HeapReleaser, ATrimReturnsAFreedBurst) {
  // 64 MiB in 16 KiB blocks (below the mmap threshold: in the arena),
  // touched, then all freed but a block allocated after them: the heap's
  // top cannot shrink past it, so free() keeps the pages; the trim gives
  // the free pages below it back.
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 64 * 64; ++i) {
    blocks.emplace_back(new char[16 << 10]);
    for (int j = 0; j < (16 << 10); j += 4096) blocks.back()[j] = 1;
  }
  std::unique_ptr<char[]> last(new char[64]);
  last[0] = 1;
  blocks.clear();
  const int64_t before = SelfSignalSources().rss_bytes();
  HeapReleaser r(absl::Seconds(10));
  ASSERT_TRUE(r.MaybeRelease(absl::UnixEpoch()));
  const int64_t after = SelfSignalSources().rss_bytes();
  EXPECT_LT(after, before - (32 << 20)) << before << " -> " << after;
}

}  // namespace
}  // namespace gspy
