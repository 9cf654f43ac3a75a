#include "daemon/sources/kernel/subscription.h"

#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(SubscriptionTest, CancelsOnceAtDestruction) {
  int cancels = 0;
  {
    Subscription s([&] { ++cancels; });
    EXPECT_TRUE(s.active());
  }
  EXPECT_EQ(cancels, 1);
}

TEST(SubscriptionTest, ExplicitCancelIsNotRepeated) {
  int cancels = 0;
  Subscription s([&] { ++cancels; });
  s.Cancel();
  s.Cancel();
  EXPECT_FALSE(s.active());
  EXPECT_EQ(cancels, 1);
}

TEST(SubscriptionTest, MovingTransfersTheClaim) {
  int cancels = 0;
  std::vector<Subscription> held;
  {
    Subscription s([&] { ++cancels; });
    held.push_back(std::move(s));
  }
  EXPECT_EQ(cancels, 0);  // the moved-from one had nothing to cancel
  Subscription other([&] { cancels += 10; });
  held[0] = std::move(other);  // ends the claim it replaces
  EXPECT_EQ(cancels, 1);
  held.clear();
  EXPECT_EQ(cancels, 11);
}

TEST(SubscriptionsTest, KeepsTheOkOnesAndEndsThemTogether) {
  int cancels = 0;
  Subscriptions held;
  EXPECT_TRUE(held.Add(Subscription([&] { ++cancels; })).ok());
  const absl::Status failed =
      held.Add(absl::StatusOr<Subscription>(absl::NotFoundError("gone")));
  EXPECT_EQ(failed.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(held.Add(Subscription([&] { ++cancels; })).ok());
  EXPECT_EQ(cancels, 0);
  held.Clear();
  EXPECT_EQ(cancels, 2);
}

}  // namespace
}  // namespace gspy
