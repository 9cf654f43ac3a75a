#include "daemon/export/push/push_queue.h"

#include <thread>

#include "gtest/gtest.h"

namespace gspy {
namespace {

PushQueue::Item Profile(const std::string& id, size_t pprof_bytes = 10) {
  auto p = std::make_shared<PushProfile>();
  p->id = id;
  p->pprof.assign(pprof_bytes, 'x');
  return p;
}

std::vector<std::string> Ids(const std::vector<PushQueue::Item>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i->id);
  return out;
}

TEST(PushQueueTest, CountBoundDropsTheOldest) {
  PushQueue q({.max_profiles = 3, .max_bytes = 1 << 20});
  for (const char* id : {"a", "b", "c"}) EXPECT_EQ(q.Add(Profile(id)), 0u);
  EXPECT_EQ(q.Add(Profile("d")), 1u);
  EXPECT_EQ(q.Add(Profile("e")), 1u);
  EXPECT_EQ(Ids(q.TakeBatch(10, 1 << 20, absl::ZeroDuration())),
            (std::vector<std::string>{"c", "d", "e"}));
  const PushQueueStats s = q.stats();
  EXPECT_EQ(s.enqueued, 5u);
  EXPECT_EQ(s.dropped_full, 2u);
  EXPECT_EQ(s.profiles, 3u);
}

TEST(PushQueueTest, ByteBoundDropsAsManyAsNeeded) {
  const size_t one = Profile("x", 1000)->bytes();
  PushQueue q({.max_profiles = 100, .max_bytes = 3 * one});
  for (const char* id : {"a", "b", "c"}) q.Add(Profile(id, 1000));
  EXPECT_EQ(q.stats().bytes, 3 * one);
  EXPECT_EQ(q.Add(Profile("big", 2000)), 2u);  // about two: two go
  EXPECT_EQ(Ids(q.TakeBatch(10, 1 << 20, absl::ZeroDuration())),
            (std::vector<std::string>{"c", "big"}));
  EXPECT_LE(q.stats().bytes, 3 * one);
}

TEST(PushQueueTest, ProfileLargerThanTheBoundIsDropped) {
  const size_t small = Profile("small", 1)->bytes();
  PushQueue q({.max_profiles = 10, .max_bytes = 2 * small});
  EXPECT_EQ(q.Add(Profile("small", 1)), 0u);
  EXPECT_EQ(q.Add(Profile("huge", 10 * small)), 2u);  // small goes, then huge
  EXPECT_EQ(q.stats().profiles, 0u);
  EXPECT_EQ(q.stats().dropped_full, 2u);
}

TEST(PushQueueTest, TheBatchBeingSentIsNeverEvicted) {
  PushQueue q({.max_profiles = 3, .max_bytes = 1 << 20});
  for (const char* id : {"a", "b", "c"}) q.Add(Profile(id));
  EXPECT_EQ(Ids(q.TakeBatch(2, 1 << 20, absl::ZeroDuration())),
            (std::vector<std::string>{"a", "b"}));
  // Room is made from what is not in flight: c goes, then d does.
  EXPECT_EQ(q.Add(Profile("d")), 1u);
  EXPECT_EQ(q.Add(Profile("e")), 1u);
  // While a and b are in flight no other batch is handed out.
  EXPECT_TRUE(q.TakeBatch(10, 1 << 20, absl::ZeroDuration()).empty());
  q.FinishBatch();
  EXPECT_EQ(Ids(q.TakeBatch(10, 1 << 20, absl::ZeroDuration())),
            (std::vector<std::string>{"e"}));
  q.FinishBatch();
  EXPECT_EQ(q.stats().profiles, 0u);
  EXPECT_EQ(q.stats().bytes, 0u);
  EXPECT_EQ(q.stats().dropped_full, 2u);
}

TEST(PushQueueTest, InFlightBatchFillingTheBoundDropsNewOnes) {
  PushQueue q({.max_profiles = 2, .max_bytes = 1 << 20});
  q.Add(Profile("a"));
  q.Add(Profile("b"));
  ASSERT_EQ(q.TakeBatch(10, 1 << 20, absl::ZeroDuration()).size(), 2u);
  EXPECT_EQ(q.Add(Profile("c")), 1u);
  q.FinishBatch();
  EXPECT_EQ(q.stats().profiles, 0u);
}

TEST(PushQueueTest, BatchLimitsTakeAtLeastOne) {
  PushQueue q({.max_profiles = 10, .max_bytes = 1 << 20});
  for (const char* id : {"a", "b", "c", "d"}) q.Add(Profile(id, 100));
  // A byte limit below one profile still yields one.
  EXPECT_EQ(Ids(q.TakeBatch(10, 1, absl::ZeroDuration())),
            (std::vector<std::string>{"a"}));
  q.FinishBatch();
  EXPECT_EQ(Ids(q.TakeBatch(2, 1 << 20, absl::ZeroDuration())),
            (std::vector<std::string>{"b", "c"}));
}

TEST(PushQueueTest, TakeBatchWaitsForAnAddOrClose) {
  PushQueue q({});
  const absl::Time start = absl::Now();
  EXPECT_TRUE(q.TakeBatch(1, 1 << 20, absl::Milliseconds(50)).empty());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(45));

  std::thread adder([&q] {
    absl::SleepFor(absl::Milliseconds(20));
    q.Add(Profile("late"));
  });
  EXPECT_EQ(Ids(q.TakeBatch(1, 1 << 20, absl::Seconds(10))),
            (std::vector<std::string>{"late"}));
  adder.join();
  q.FinishBatch();

  std::thread closer([&q] {
    absl::SleepFor(absl::Milliseconds(20));
    q.Close();
  });
  const absl::Time before_close = absl::Now();
  EXPECT_TRUE(q.TakeBatch(1, 1 << 20, absl::Seconds(10)).empty());
  EXPECT_LT(absl::Now() - before_close, absl::Seconds(5));
  closer.join();
}

}  // namespace
}  // namespace gspy
