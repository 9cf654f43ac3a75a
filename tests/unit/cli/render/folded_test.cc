#include <gtest/gtest.h>

#include <string>

#include "cli/render/flame_graph.h"
#include "profile/pprof/profile_builder.h"
#include "tests/unit/cli/render/synthetic_profile.h"

namespace gspy {
namespace {

using testing::BuildProfile;

std::string Folded(const perftools::profiles::Profile& p,
                   const RenderOptions& options = {}) {
  absl::StatusOr<std::string> out = RenderFolded(p, options);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

TEST(RenderFoldedTest, MergesIdenticalStacksAndSorts) {
  const auto p = BuildProfile({{{"main.main", "main.b"}, 5, "x"},
                               {{"main.main", "main.a"}, 3, "y"},
                               {{"main.main", "main.b"}, 2, "y"},
                               {{"main.main"}, 1, ""}});
  EXPECT_EQ(Folded(p),
            "main.main 1\n"
            "main.main;main.a 3\n"
            "main.main;main.b 7\n");
}

TEST(RenderFoldedTest, ValueIndexPicksSampleType) {
  const auto p = BuildProfile(
      {{{"main.main", "main.a"}, 30, ""}, {{"main.main", "main.a"}, 20, ""}});
  EXPECT_EQ(Folded(p), "main.main;main.a 50\n") << "default: last type";
  EXPECT_EQ(Folded(p, {.value_index = 0}), "main.main;main.a 2\n");
  EXPECT_FALSE(RenderFolded(p, {.value_index = 2}).ok());
  EXPECT_FALSE(RenderFolded(p, {.value_index = -2}).ok());
}

TEST(RenderFoldedTest, ExpandsInlineFramesCallerFirst) {
  ProfileBuilder b({{"samples", "count"}}, {"samples", "count"}, 1);
  // Innermost first, as GoBinary::Symbolize returns them.
  const Frame inlined[] = {{"main.leafInlined", "/a.go", 3, 1, true},
                           {"main.middleInlined", "/a.go", 7, 5, true},
                           {"main.physical", "/a.go", 20, 18, false}};
  const Frame root[] = {{"main.main", "/a.go", 30, 28, false}};
  const uint64_t stack[] = {b.LocationId(0, 0x10, inlined),
                            b.LocationId(0, 0x20, root)};
  b.AddSample(stack, {4}, {});
  EXPECT_EQ(Folded(b.proto()),
            "main.main;main.physical;main.middleInlined;main.leafInlined 4\n");
}

TEST(RenderFoldedTest, GroupByLabel) {
  const auto p = BuildProfile({{{"main.main", "main.a"}, 3, "alpha"},
                               {{"main.main", "main.a"}, 4, "beta"},
                               {{"main.main", "main.a"}, 5, ""},
                               {{"main.main", "main.a"}, 6, "alpha"}});
  EXPECT_EQ(Folded(p, {.group_by_label = "phase"}),
            "phase=<none>;main.main;main.a 5\n"
            "phase=alpha;main.main;main.a 9\n"
            "phase=beta;main.main;main.a 4\n");
}

TEST(RenderFoldedTest, NumericLabelGroupsWithUnit) {
  ProfileBuilder b({{"samples", "count"}}, {"samples", "count"}, 1);
  const uint64_t loc[] = {b.SyntheticLocationId("main.f")};
  const SampleLabel size[] = {
      {.key = "size", .num = 64, .num_unit = "bytes", .is_num = true}};
  b.AddSample(loc, {2}, size);
  EXPECT_EQ(Folded(b.proto(), {.group_by_label = "size"}),
            "size=64bytes;main.f 2\n");
}

TEST(RenderFoldedTest, SkipsNonPositiveAndSanitizesSeparators) {
  ProfileBuilder b({{"samples", "count"}}, {"samples", "count"}, 1);
  const uint64_t weird[] = {b.SyntheticLocationId("odd;name\nhere")};
  const uint64_t neg[] = {b.SyntheticLocationId("main.negative")};
  b.AddSample(weird, {1}, {});
  b.AddSample(neg, {-5}, {});
  b.AddSample(neg, {0}, {});
  EXPECT_EQ(Folded(b.proto()), "odd:name here 1\n");
}

TEST(RenderFoldedTest, UnsymbolizedLocationShowsAddress) {
  ProfileBuilder b({{"samples", "count"}}, {"samples", "count"}, 1);
  const uint64_t loc[] = {b.LocationId(0, 0xdeadbeef, {})};
  b.AddSample(loc, {1}, {});
  EXPECT_EQ(Folded(b.proto()), "0xdeadbeef 1\n");
}

TEST(RenderFoldedTest, EmptyProfile) {
  EXPECT_EQ(Folded(BuildProfile({})), "");
  EXPECT_EQ(Folded(perftools::profiles::Profile()), "");
}

TEST(RenderFoldedTest, BadIndicesAreErrorsNotCrashes) {
  auto p = BuildProfile({{{"main.main"}, 1, ""}});
  p.mutable_function(0)->set_name(12345);
  EXPECT_FALSE(RenderFolded(p, {}).ok());
  p = BuildProfile({{{"main.main"}, 1, ""}});
  p.mutable_sample(0)->set_location_id(0, 99);
  EXPECT_FALSE(RenderFolded(p, {}).ok());
  p = BuildProfile({{{"main.main"}, 1, ""}});
  p.mutable_sample(0)->clear_value();
  EXPECT_FALSE(RenderFolded(p, {}).ok());
}

}  // namespace
}  // namespace gspy
