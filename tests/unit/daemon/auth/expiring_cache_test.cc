#include "daemon/auth/expiring_cache.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'000'000);

TEST(ExpiringCache, ValueExpiresAfterItsTtl) {
  ExpiringCache<int> cache(10);
  cache.Put("a", 1, absl::Seconds(5), kT0);
  EXPECT_EQ(cache.Get("a", kT0 + absl::Seconds(4)), 1);
  EXPECT_FALSE(cache.Get("a", kT0 + absl::Seconds(5)).has_value());
  EXPECT_FALSE(cache.Get("b", kT0).has_value());
}

TEST(ExpiringCache, NeverHoldsMoreThanItsBound) {
  ExpiringCache<int> cache(3);
  for (int i = 0; i < 100; ++i) {
    cache.Put(std::to_string(i), i, absl::Seconds(100 + i), kT0);
    EXPECT_LE(cache.size(), 3u);
  }
  // The ones closest to expiring went first: the last three stay.
  EXPECT_EQ(cache.Get("99", kT0), 99);
  EXPECT_EQ(cache.Get("97", kT0), 97);
  EXPECT_FALSE(cache.Get("96", kT0).has_value());
}

TEST(ExpiringCache, ExpiredEntriesGoFirstWhenFull) {
  ExpiringCache<int> cache(2);
  cache.Put("long", 1, absl::Hours(1), kT0);
  cache.Put("short", 2, absl::Seconds(1), kT0);
  cache.Put("new", 3, absl::Seconds(10), kT0 + absl::Seconds(2));
  EXPECT_EQ(cache.Get("long", kT0 + absl::Seconds(2)), 1);
  EXPECT_EQ(cache.Get("new", kT0 + absl::Seconds(2)), 3);
}

TEST(ExpiringCache, ZeroTtlOrSizeStoresNothing) {
  ExpiringCache<int> none(0);
  none.Put("a", 1, absl::Seconds(5), kT0);
  EXPECT_EQ(none.size(), 0u);
  ExpiringCache<int> cache(2);
  cache.Put("a", 1, absl::ZeroDuration(), kT0);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace gspy
