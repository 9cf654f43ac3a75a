#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <string>

#include "profile/pprof/profile_builder.h"
#include "profile/pprof/profile_merge.h"
#include "tests/unit/profile/pprof/test_profiles.h"

namespace gspy {
namespace {

namespace pb = perftools::profiles;

// Total value 0 (samples) by leaf function name, and by handler label.
std::map<std::string, int64_t> ByLeaf(const pb::Profile& p) {
  std::map<uint64_t, std::string> fn;
  for (const auto& f : p.function()) fn[f.id()] = p.string_table(f.name());
  std::map<uint64_t, std::string> leaf;
  for (const auto& l : p.location()) {
    leaf[l.id()] = l.line_size() > 0 ? fn[l.line(0).function_id()] : "?";
  }
  std::map<std::string, int64_t> out;
  for (const auto& s : p.sample()) out[leaf[s.location_id(0)]] += s.value(0);
  return out;
}

// Times come from the inputs' producers: the span saturates where it
// would overflow (signed overflow, undefined behaviour that UBSan reports
// in tests/fuzz/pprof_fuzz; built without it, the span came out negative).
TEST(MergeProfilesTest, TimeSpanSaturates) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  pb::Profile a = testing::MakeCpuProfile()->proto();
  a.set_time_nanos(kMax - 10);
  a.set_duration_nanos(100);
  absl::StatusOr<pb::Profile> merged = MergeProfiles({a});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->time_nanos(), kMax - 10);
  EXPECT_EQ(merged->duration_nanos(), 10);

  pb::Profile b = a;
  b.set_time_nanos(kMin + 1);
  b.set_duration_nanos(1);
  merged = MergeProfiles({a, b});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->time_nanos(), kMin + 1);
  EXPECT_EQ(merged->duration_nanos(), kMax);
}

TEST(MergeProfilesTest, KeepsEverySampleSharesFunctionsAndStaysValid) {
  const pb::Profile a = testing::MakeCpuProfile()->proto();
  pb::Profile b = testing::MakeCpuProfile()->proto();
  b.set_time_nanos(a.time_nanos() + 5'000'000'000);  // 5 s later, 10 s long
  absl::StatusOr<pb::Profile> merged = MergeProfiles({a, b});
  ASSERT_TRUE(merged.ok()) << merged.status();
  // What DecodeProfile accepts, pprof accepts.
  absl::StatusOr<pb::Profile> round =
      DecodeProfile(merged->SerializeAsString());
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(merged->sample_size(), a.sample_size() * 2);
  EXPECT_EQ(merged->function_size(), a.function_size());  // shared by name
  EXPECT_EQ(merged->mapping_size(), a.mapping_size() * 2);
  std::map<std::string, int64_t> want = ByLeaf(a);
  for (auto& [k, v] : want) v *= 2;
  EXPECT_EQ(ByLeaf(*merged), want);
  EXPECT_EQ(merged->time_nanos(), a.time_nanos());
  EXPECT_EQ(merged->duration_nanos(), 15'000'000'000);
  EXPECT_EQ(merged->period(), a.period());
  EXPECT_EQ(merged->comment_size(), 1);  // the same comment once
  // Labels survive with their strings re-interned.
  int checkout = 0;
  for (const auto& s : merged->sample()) {
    for (const auto& l : s.label()) {
      if (merged->string_table(l.key()) == "handler" &&
          merged->string_table(l.str()) == "checkout") {
        ++checkout;
      }
    }
  }
  EXPECT_EQ(checkout, 4);
}

TEST(MergeProfilesTest, RefusesDifferentSampleTypesAndNothing) {
  ProfileBuilder other({{"goroutine", "count"}}, {"goroutine", "count"}, 1);
  EXPECT_TRUE(absl::IsInvalidArgument(
      MergeProfiles({testing::MakeCpuProfile()->proto(), other.proto()})
          .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(MergeProfiles({}).status()));
}

}  // namespace
}  // namespace gspy
