#include "daemon/export/metrics/gc_process_stats.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

using ::testing::HasSubstr;

TEST(GcPauseBucketsTest, TenMicrosecondsToOneSecondAscending) {
  const std::vector<double>& b = GcPauseBuckets();
  ASSERT_FALSE(b.empty());
  EXPECT_DOUBLE_EQ(b.front(), 10e-6);
  EXPECT_DOUBLE_EQ(b.back(), 1.0);
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
}

TEST(GcProcessStatsTest, GcPausesInHistogramAllPausesByReason) {
  GcProcessStats stats({{"pid", "42"}, {"exe", "/srv/app"}});
  stats.AddPause(true, "GC sweep termination", 40e-6);
  stats.AddPause(true, "GC mark termination", 120e-6);
  stats.AddPause(true, "GC sweep termination", 3e-3);
  stats.AddPause(false, "read mem stats", 20e-6);
  stats.set_cycles(2);
  GcFamilies families;
  stats.AppendTo(&families);
  MetricFamilies out;
  families.MoveTo(&out);
  const std::string text = WriteFamilies(out);
  const std::string l = "pid=\"42\",exe=\"/srv/app\"";
  // Only the three GC pauses are in the histogram, as in Go's
  // /sched/pauses/total/gc:seconds.
  EXPECT_THAT(text, HasSubstr("gspy_go_gc_pause_seconds_bucket{" + l +
                              ",le=\"5e-05\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("gspy_go_gc_pause_seconds_bucket{" + l +
                              ",le=\"0.00025\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("gspy_go_gc_pause_seconds_bucket{" + l +
                              ",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("gspy_go_gc_pause_seconds_count{" + l + "} 3\n"));
  EXPECT_THAT(text, HasSubstr("gspy_go_gc_cycles_total{" + l + "} 2\n"));
  EXPECT_THAT(text, HasSubstr("gspy_go_stw_pauses_total{" + l +
                              ",reason=\"GC sweep termination\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("gspy_go_stw_pauses_total{" + l +
                              ",reason=\"read mem stats\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("gspy_go_stw_pause_seconds_total{" + l +
                              ",reason=\"read mem stats\"} 2e-05\n"));
}

}  // namespace
}  // namespace gspy
