#include "daemon/export/push/backoff.h"

#include <set>

#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(BackoffTest, DoublesUpToTheCap) {
  Backoff b({.initial = absl::Seconds(1), .max = absl::Seconds(30),
             .multiplier = 2, .jitter = 0},
            1);
  const absl::Duration want[] = {absl::Seconds(1),  absl::Seconds(2),
                                 absl::Seconds(4),  absl::Seconds(8),
                                 absl::Seconds(16), absl::Seconds(30),
                                 absl::Seconds(30)};
  for (absl::Duration w : want) EXPECT_EQ(b.Next(), w);
  EXPECT_EQ(b.attempt(), 7);
  // Far past the cap the power overflows to inf: still the cap.
  EXPECT_EQ(b.Base(5000), absl::Seconds(30));
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff b({.initial = absl::Milliseconds(100), .jitter = 0}, 1);
  b.Next();
  b.Next();
  b.Reset();
  EXPECT_EQ(b.attempt(), 0);
  EXPECT_EQ(b.Next(), absl::Milliseconds(100));
}

TEST(BackoffTest, JitterStaysWithinItsShareAndSpreads) {
  const BackoffPolicy p{.initial = absl::Seconds(1), .max = absl::Seconds(8),
                        .multiplier = 2, .jitter = 0.5};
  std::set<int64_t> firsts;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Backoff b(p, seed);
    for (int i = 0; i < 6; ++i) {
      const absl::Duration base = b.Base(i);
      const absl::Duration d = b.Next();
      EXPECT_LE(d, base);
      EXPECT_GE(d, base * 0.5);
      if (i == 0) firsts.insert(absl::ToInt64Microseconds(d));
    }
  }
  // 200 daemons do not retry in step.
  EXPECT_GT(firsts.size(), 150u);
}

TEST(BackoffTest, SameSeedSameWaits) {
  const BackoffPolicy p{};
  Backoff a(p, 42), b(p, 42);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.Next(), b.Next());
}

TEST(BackoffTest, BadPolicyIsMadeSane) {
  // jitter > 1, multiplier < 1, max < initial.
  Backoff b({.initial = absl::Seconds(2), .max = absl::Seconds(1),
             .multiplier = 0.5, .jitter = 3},
            7);
  for (int i = 0; i < 5; ++i) {
    const absl::Duration d = b.Next();
    EXPECT_GE(d, absl::ZeroDuration());
    EXPECT_LE(d, absl::Seconds(2));
  }
}

}  // namespace
}  // namespace gspy
