// The GcPauses service's summary statistics.
#include "daemon/api/gc_service.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(Quantile, NearestRank) {
  EXPECT_EQ(Quantile({}, 0.5), 0);
  EXPECT_EQ(Quantile({5}, 0.99), 5);
  std::vector<int64_t> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(Quantile(v, 0.50), 50);
  EXPECT_EQ(Quantile(v, 0.99), 99);
  EXPECT_EQ(Quantile(v, 1.0), 100);
}

}  // namespace
}  // namespace gspy
