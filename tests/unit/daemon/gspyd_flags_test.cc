#include "daemon/gspyd_flags.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Shim(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return DashesToUnderscores(static_cast<int>(argv.size()), argv.data());
}

TEST(GspydFlagsTest, DashesBecomeUnderscoresInFlagNamesOnly) {
  EXPECT_THAT(
      Shim({"gspyd", "--cpu-hz=49", "--push-exe", "/opt/my-app",
            "--push-labels=team=a-b", "--metrics_listen=:0", "--", "--x-y"}),
      ElementsAre("gspyd", "--cpu_hz=49", "--push_exe", "/opt/my-app",
                  "--push_labels=team=a-b", "--metrics_listen=:0", "--",
                  "--x-y"));
}

TEST(GspydFlagsTest, RepeatedCaptureRulesAreGathered) {
  EXPECT_THAT(
      GatherRepeatedFlag({"gspyd", "--capture_rule=gc_pause>5ms",
                          "--cpu_hz=49", "--capture_rule",
                          "goroutines>10;selector=a=b,c=d", "--",
                          "--capture_rule=x"},
                         "capture_rule"),
      ElementsAre("gspyd",
                  "--capture_rule=gc_pause>5ms\ngoroutines>10;selector=a=b,"
                  "c=d",
                  "--cpu_hz=49", "--", "--capture_rule=x"));
  EXPECT_THAT(GatherRepeatedFlag({"gspyd", "--cpu_hz=1"}, "capture_rule"),
              ElementsAre("gspyd", "--cpu_hz=1"));
}

// One test, as absl parses a program's command line once.
TEST(GspydFlagsTest, CommandLineFillsTheOptions) {
  const GspydOptions defaults;
  const GspydOptions unset = GspydOptionsFromFlags();
  EXPECT_EQ(unset.log_level, LogSeverity::kInfo);
  EXPECT_EQ(unset.listen, defaults.listen);
  EXPECT_EQ(unset.cpu_hz, defaults.cpu_hz);
  EXPECT_EQ(unset.profiler.max_duration, defaults.profiler.max_duration);
  EXPECT_EQ(unset.push.interval, defaults.push.interval);
  EXPECT_EQ(unset.push.max_attempts, defaults.push.max_attempts);
  EXPECT_EQ(unset.gc_metrics.max_processes, defaults.gc_metrics.max_processes);
  EXPECT_TRUE(unset.push.pyroscope_url.empty());

  std::vector<std::string> args = {
      "gspyd",
      "--log-level=warning",
      "--listen=127.0.0.1:0",
      "--cpu-hz=49",
      "--metrics-listen=127.0.0.1:7071",
      "--metrics_goroutines=false",
      "--metrics-goroutines-max=-5",
      "--block-detach-min-fraction=7",
      "--kube-api=none",
      "--push-pyroscope-url=http://127.0.0.1:4040",
      "--push-interval=30s",
      "--push-exe=/a,/b",
      "--push-labels=cluster=test,team=x",
      "--push-insecure-skip-verify",
      "--push-queue-max-bytes=1024",
  };
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  const GspydOptions o =
      ParseGspydCommandLine(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(o.log_level, LogSeverity::kWarning);
  EXPECT_EQ(o.listen, "127.0.0.1:0");
  EXPECT_EQ(o.cpu_hz, 49);
  EXPECT_EQ(o.metrics_listen, "127.0.0.1:7071");
  EXPECT_FALSE(o.metrics_goroutines);
  EXPECT_EQ(o.goroutine_states.max_goroutines, 0u);  // negative: none
  EXPECT_EQ(o.block.trap.min_fraction, 1.0);         // clamped
  EXPECT_EQ(o.kube.api, "none");
  EXPECT_EQ(o.push.pyroscope_url, "http://127.0.0.1:4040");
  EXPECT_EQ(o.push.interval, absl::Seconds(30));
  EXPECT_THAT(o.push.exe, ElementsAre("/a", "/b"));
  EXPECT_THAT(o.push.labels, ElementsAre("cluster=test", "team=x"));
  EXPECT_TRUE(o.push.insecure_skip_verify);
  EXPECT_EQ(o.push.queue_max_bytes, 1024);
  // Untouched flags keep their defaults.
  EXPECT_EQ(o.push.timeout, defaults.push.timeout);
  EXPECT_EQ(o.profiler.max_stacks_per_profile,
            defaults.profiler.max_stacks_per_profile);
}

}  // namespace
}  // namespace gspy
