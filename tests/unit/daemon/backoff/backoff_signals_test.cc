// Reading the back-off signals: the kernel's PSI format (as documented in
// Documentation/accounting/psi.rst), missing files, and CPU use and losses
// as differences between ticks.
#include "daemon/backoff/backoff_signals.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(ParsePsiSomeAvg10, KernelFormat) {
  EXPECT_EQ(ParsePsiSomeAvg10("some avg10=0.12 avg60=0.34 avg300=0.56 "
                              "total=123456\nfull avg10=9.99 avg60=0.00 "
                              "avg300=0.00 total=0\n"),
            0.12);
  // The cpu file of older kernels has no "full" line.
  EXPECT_EQ(ParsePsiSomeAvg10("some avg10=87.50 avg60=10.00 avg300=1.00 "
                              "total=1\n"),
            87.5);
}

TEST(ParsePsiSomeAvg10, RejectsWhatIsNotPsi) {
  EXPECT_FALSE(ParsePsiSomeAvg10("").has_value());
  EXPECT_FALSE(ParsePsiSomeAvg10("full avg10=5.00 avg60=0 avg300=0 total=0")
                   .has_value());
  EXPECT_FALSE(ParsePsiSomeAvg10("some avg10=abc").has_value());
  EXPECT_FALSE(ParsePsiSomeAvg10("some avg10=-1.0").has_value());
  EXPECT_FALSE(ParsePsiSomeAvg10("some avg10=101.0").has_value());
  EXPECT_FALSE(ParsePsiSomeAvg10("some avg60=1.0 total=3").has_value());
}

TEST(SignalReader, DifferencesBetweenTicksAndPsiFromTheDirectory) {
  char dir[] = "/tmp/gspy_psi_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::ofstream(std::string(dir) + "/cpu")
      << "some avg10=42.00 avg60=1.00 avg300=0.00 total=5\n";
  // No memory file: no memory signal.
  int64_t cpu = 1'000'000'000;
  uint64_t losses = 7;
  SignalSources sources;
  sources.cpu_ns = [&cpu] { return cpu; };
  sources.rss_bytes = [] { return int64_t{5} << 20; };
  sources.ring_losses_total = [&losses] { return losses; };
  sources.psi_dir = dir;
  SignalReader reader(sources);
  absl::Time t = absl::UnixEpoch();
  BackoffSignals first = reader.Read(t);
  EXPECT_LT(first.cpu_cores, 0);  // nothing to compare with yet
  EXPECT_EQ(first.ring_losses, 0u);
  EXPECT_EQ(first.psi_cpu_some_avg10, 42);
  EXPECT_LT(first.psi_memory_some_avg10, 0);
  EXPECT_EQ(first.rss_bytes, int64_t{5} << 20);

  cpu += 500'000'000;  // half a second of CPU in two seconds
  losses += 4;
  BackoffSignals second = reader.Read(t + absl::Seconds(2));
  EXPECT_DOUBLE_EQ(second.cpu_cores, 0.25);
  EXPECT_EQ(second.ring_losses, 4u);

  unlink((std::string(dir) + "/cpu").c_str());
  rmdir(dir);
  BackoffSignals gone = reader.Read(t + absl::Seconds(3));
  EXPECT_LT(gone.psi_cpu_some_avg10, 0);
  EXPECT_EQ(gone.ring_losses, 0u);
}

TEST(SignalReader, SelfSourcesReadThisProcess) {
  SignalSources self = SelfSignalSources();
  EXPECT_GT(self.cpu_ns(), 0);
  EXPECT_GT(self.rss_bytes(), 1 << 20);
}

}  // namespace
}  // namespace gspy
