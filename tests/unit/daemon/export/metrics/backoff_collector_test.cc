// The back-off loop under made-up node pressure, as /metrics shows it: the
// loop reads a PSI file, lowers the scale to its floor, hands each new
// scale to the sources, and the collector exports scale and reason.
#include "daemon/export/metrics/backoff_collector.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "daemon/backoff/backoff_loop.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

using ::testing::HasSubstr;

TEST(BackoffCollectorTest, PressureLowersTheScaleAndMetricsSayWhy) {
  char dir[] = "/tmp/gspy_backoff_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string cpu = std::string(dir) + "/cpu";
  std::ofstream(cpu) << "some avg10=99.00 avg60=50.00 avg300=10.00 total=1\n";
  BackoffOptions o;
  o.interval = absl::Milliseconds(10);
  o.psi_cpu_percent = 50;
  o.min_scale = 0.1;
  SignalSources sources;  // no CPU, memory or loss readings
  sources.psi_dir = dir;
  absl::Mutex mu;
  std::vector<double> applied;
  {
    BackoffLoop loop(o, sources, [&](double scale) {
      absl::MutexLock lock(&mu);
      applied.push_back(scale);
    });
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (loop.state().scale > 0.1 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_DOUBLE_EQ(loop.state().scale, 0.1);
    MetricFamilies out;
    CollectBackoff(&loop, nullptr, &out);
    const std::string text = WriteFamilies(std::move(out));
    EXPECT_THAT(text, HasSubstr("gspy_backoff_scale 0.1\n"));
    EXPECT_THAT(text, HasSubstr("gspy_backoff_reason{reason=\"psi_cpu\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("gspy_backoff_reason{reason=\"none\"} 0\n"));
    EXPECT_THAT(text,
                ::testing::Not(HasSubstr("gspy_effective_cpu_sampling_hz")));
  }
  absl::MutexLock lock(&mu);
  ASSERT_GE(applied.size(), 2u);  // 1 -> ~0.5 -> ... -> 0.1
  for (size_t i = 1; i < applied.size(); ++i) {
    EXPECT_LT(applied[i], applied[i - 1]);
  }
  EXPECT_DOUBLE_EQ(applied.back(), 0.1);
  unlink(cpu.c_str());
  rmdir(dir);
}

TEST(BackoffCollectorTest, OffExportsNothingOfTheLoop) {
  MetricFamilies out;
  CollectBackoff(nullptr, nullptr, &out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace gspy
