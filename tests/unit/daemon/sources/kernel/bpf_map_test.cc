#include <cerrno>
#include <cstdint>

#include "daemon/sources/kernel/fake_bpf_map.h"
#include "daemon/sources/kernel/monotonic_clock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

struct Key {
  uint32_t tgid;
  uint32_t pad;
  uint64_t goid;
};

TEST(FakeBpfMapTest, PutGetErase) {
  FakeBpfMap map;
  const uint32_t pid = 42;
  const uint64_t value = 7;
  ASSERT_EQ(map.Put(pid, value), 0);
  uint64_t got = 0;
  ASSERT_TRUE(map.Get(pid, &got));
  EXPECT_EQ(got, 7u);
  EXPECT_TRUE(map.Erase(pid));
  EXPECT_FALSE(map.Get(pid, &got));
  EXPECT_FALSE(map.Erase(pid));
}

TEST(FakeBpfMapTest, FullMapRefusesNewKeys) {
  FakeBpfMap map(/*capacity=*/1);
  ASSERT_EQ(map.Put(uint32_t{1}, uint8_t{1}), 0);
  EXPECT_EQ(map.Put(uint32_t{2}, uint8_t{1}), E2BIG);
  EXPECT_EQ(map.Put(uint32_t{1}, uint8_t{2}), 0);  // replacing still works
}

TEST(FakeBpfMapTest, EraseIfWalksEveryKey) {
  FakeBpfMap map;
  for (uint32_t tgid : {1u, 2u, 1u, 3u}) {
    static uint64_t goid = 0;
    ASSERT_EQ(map.Put(Key{tgid, 0, ++goid}, uint64_t{0}), 0);
  }
  map.EraseIf<Key>([](const Key& k) { return k.tgid == 1; });
  EXPECT_EQ(map.size(), 2u);
  map.EraseIf<Key>([](const Key&) { return true; });
  EXPECT_EQ(map.size(), 0u);
}

TEST(MonotonicClockTest, AdvancesAndMapsToUnixTime) {
  const uint64_t a = MonotonicNowNs();
  const uint64_t b = MonotonicNowNs();
  EXPECT_LE(a, b);
  // Unix time of "now" is after 2020 for any machine running these tests.
  EXPECT_GT(static_cast<int64_t>(b) + MonotonicToUnixOffsetNs(),
            int64_t{1'577'836'800} * 1'000'000'000);
}

}  // namespace
}  // namespace gspy
