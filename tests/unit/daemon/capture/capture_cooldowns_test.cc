#include "daemon/capture/capture_cooldowns.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/capture/capture_store.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

gspy::v1::CaptureInfo Stored(const std::string& rule, int pid, uint64_t ticks,
                             absl::Duration after_t0) {
  gspy::v1::CaptureInfo info;
  info.set_id(CaptureId(kT0 + after_t0, "cpu", pid));
  info.set_unix_nanos(absl::ToUnixNanos(kT0 + after_t0));
  info.set_rule(rule);
  info.set_pid(pid);
  info.set_process_start_ticks(ticks);
  return info;
}

TEST(CaptureCooldownsTest, HoldsForTheCooldownOnly) {
  CaptureCooldowns c(absl::Minutes(5));
  EXPECT_FALSE(c.Within("cpu>80%", 7, 100, kT0));
  c.Fired("cpu>80%", 7, 100, kT0);
  EXPECT_TRUE(c.Within("cpu>80%", 7, 100, kT0 + absl::Minutes(4)));
  EXPECT_FALSE(c.Within("cpu>80%", 7, 100, kT0 + absl::Minutes(5)));
  // Another rule, another process, or the same pid reused by a process
  // started later: not in this cooldown.
  EXPECT_FALSE(c.Within("cpu>90%", 7, 100, kT0 + absl::Minutes(1)));
  EXPECT_FALSE(c.Within("cpu>80%", 8, 100, kT0 + absl::Minutes(1)));
  EXPECT_FALSE(c.Within("cpu>80%", 7, 101, kT0 + absl::Minutes(1)));
}

TEST(CaptureCooldownsTest, ForgetsFiringsPastTheirCooldown) {
  CaptureCooldowns c(absl::Minutes(1));
  for (int pid = 1; pid <= 100; ++pid) c.Fired("r", pid, 1, kT0);
  EXPECT_EQ(c.size(), 100u);
  c.Fired("r", 1000, 1, kT0 + absl::Minutes(2));
  EXPECT_EQ(c.size(), 1u);
}

TEST(CaptureCooldownsTest, RestoresTheNewestFiringOfConfiguredRules) {
  CaptureCooldowns c(absl::Minutes(5));
  c.Restore({Stored("goroutines>10", 7, 100, absl::Minutes(0)),
             Stored("goroutines>10", 7, 100, absl::Minutes(3)),
             Stored("goroutines>10", 7, 100, absl::Minutes(1)),
             // No longer a rule of this gspyd.
             Stored("goroutines>20", 9, 100, absl::Minutes(3)),
             // Written by a gspyd that did not record the start.
             Stored("goroutines>10", 8, 0, absl::Minutes(3))},
            {"goroutines>10", "cpu>50%"});
  EXPECT_EQ(c.size(), 1u);
  // The newest of the three, at 3 min: within until 8 min.
  EXPECT_TRUE(c.Within("goroutines>10", 7, 100, kT0 + absl::Minutes(7)));
  EXPECT_FALSE(c.Within("goroutines>10", 7, 100, kT0 + absl::Minutes(8)));
  EXPECT_FALSE(c.Within("goroutines>10", 8, 0, kT0 + absl::Minutes(4)));
}

// The start ticks survive the store's round trip through its directory, as
// a restarted gspyd reads them.
TEST(CaptureCooldownsTest, RestoredFromAReopenedStore) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      absl::StrCat("capture_cooldowns_test_", getpid());
  std::filesystem::remove_all(dir);
  {
    std::vector<std::string> warnings;
    auto store = CaptureStore::Open({dir.string(), 10, 1 << 20}, &warnings);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)
                    ->Add(Stored("cpu>80%", 7, 123456, absl::ZeroDuration()),
                          {{"books.txt", "x"}})
                    .ok());
  }
  std::vector<std::string> warnings;
  auto reopened = CaptureStore::Open({dir.string(), 10, 1 << 20}, &warnings);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  CaptureCooldowns c(absl::Minutes(5));
  c.Restore((*reopened)->List(), {"cpu>80%"});
  EXPECT_TRUE(c.Within("cpu>80%", 7, 123456, kT0 + absl::Minutes(1)));
  EXPECT_FALSE(c.Within("cpu>80%", 7, 123457, kT0 + absl::Minutes(1)));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gspy
