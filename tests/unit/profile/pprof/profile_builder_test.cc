#include "profile/pprof/profile_builder.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/unit/profile/pprof/test_profiles.h"

namespace gspy {
namespace {

namespace pb = perftools::profiles;

const std::string& S(const pb::Profile& p, int64_t i) {
  return p.string_table(static_cast<int>(i));
}

const pb::Function& FunctionById(const pb::Profile& p, uint64_t id) {
  for (const pb::Function& f : p.function()) {
    if (f.id() == id) return f;
  }
  ADD_FAILURE() << "no function " << id;
  return p.function(0);
}

ProfileBuilder OneTypeBuilder() {
  return ProfileBuilder({{"goroutine", "count"}}, {"goroutine", "count"}, 1);
}

TEST(ProfileBuilderTest, StringTableStartsWithEmptyAndInterns) {
  auto b = testing::MakeCpuProfile();
  const pb::Profile& p = b->proto();
  ASSERT_GT(p.string_table_size(), 0);
  EXPECT_EQ(p.string_table(0), "");
  std::set<std::string> unique(p.string_table().begin(),
                               p.string_table().end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(p.string_table_size()))
      << "a string was interned twice";
  EXPECT_EQ(S(p, p.sample_type(0).type()), "samples");
  EXPECT_EQ(S(p, p.sample_type(1).unit()), "nanoseconds");
  EXPECT_EQ(S(p, p.period_type().type()), "cpu");
  EXPECT_EQ(p.period(), 10'000'000);
  EXPECT_EQ(p.duration_nanos(), 10'000'000'000);
  EXPECT_EQ(p.time_nanos(), 1'700'000'000'000'000'000);
}

TEST(ProfileBuilderTest, IdsStartAtOneAndAreUnique) {
  auto b = testing::MakeCpuProfile();
  const pb::Profile& p = b->proto();
  for (int i = 0; i < p.mapping_size(); ++i)
    EXPECT_EQ(p.mapping(i).id(), i + 1);
  for (int i = 0; i < p.location_size(); ++i) {
    EXPECT_EQ(p.location(i).id(), static_cast<uint64_t>(i + 1));
  }
  for (int i = 0; i < p.function_size(); ++i) {
    EXPECT_EQ(p.function(i).id(), static_cast<uint64_t>(i + 1));
  }
}

TEST(ProfileBuilderTest, InlineLinesInnermostFirst) {
  auto b = testing::MakeCpuProfile();
  const pb::Profile& p = b->proto();
  const pb::Location& loc = p.location(0);  // main.handle + inlined parse
  EXPECT_EQ(loc.address(), 0x401000u);
  EXPECT_EQ(loc.mapping_id(), 1u);
  ASSERT_EQ(loc.line_size(), 2);
  const pb::Function& inner = FunctionById(p, loc.line(0).function_id());
  const pb::Function& outer = FunctionById(p, loc.line(1).function_id());
  EXPECT_EQ(S(p, inner.name()), "main.parseRequest");
  EXPECT_EQ(S(p, inner.system_name()), "main.parseRequest");
  EXPECT_EQ(S(p, inner.filename()), "/src/app/parse.go");
  EXPECT_EQ(inner.start_line(), 10);
  EXPECT_EQ(loc.line(0).line(), 12);
  EXPECT_EQ(S(p, outer.name()), "main.handle");
  EXPECT_EQ(loc.line(1).line(), 40);
}

TEST(ProfileBuilderTest, FunctionsDedupedByNameFileStartLine) {
  ProfileBuilder b = OneTypeBuilder();
  const Frame f1[] = {{"main.f", "/a.go", 10, 5, false}};
  const Frame f1_other_line[] = {{"main.f", "/a.go", 11, 5, false}};
  const Frame f1_other_start[] = {{"main.f", "/a.go", 10, 6, false}};
  const Frame f1_other_file[] = {{"main.f", "/b.go", 10, 5, false}};
  b.LocationId(0, 0x10, f1);
  b.LocationId(0, 0x20, f1_other_line);  // same function, another line
  b.LocationId(0, 0x30, f1_other_start);
  b.LocationId(0, 0x40, f1_other_file);
  const pb::Profile& p = b.proto();
  EXPECT_EQ(p.location_size(), 4);
  EXPECT_EQ(p.function_size(), 3);
  EXPECT_EQ(p.location(0).line(0).function_id(),
            p.location(1).line(0).function_id());
  EXPECT_NE(p.location(0).line(0).function_id(),
            p.location(2).line(0).function_id());
}

TEST(ProfileBuilderTest, LocationsDedupedByMappingAndAddress) {
  ProfileBuilder b = OneTypeBuilder();
  const uint64_t m = b.AddMapping({.filename = "/bin/x"});
  const Frame first[] = {{"main.a", "/a.go", 1, 1, false}};
  const Frame second[] = {{"main.b", "/b.go", 2, 2, false}};
  const uint64_t id = b.LocationId(m, 0x1000, first);
  EXPECT_EQ(b.LocationId(m, 0x1000, second), id) << "first frames win";
  EXPECT_NE(b.LocationId(0, 0x1000, first), id) << "mapping is in the key";
  EXPECT_NE(b.LocationId(m, 0x1004, first), id);
  EXPECT_EQ(b.proto().location_size(), 3);
  EXPECT_EQ(b.proto().function_size(), 1) << "main.b never used";
  // An unknown mapping must not dangle.
  const uint64_t bad = b.LocationId(99, 0x5000, first);
  EXPECT_EQ(b.proto().location(static_cast<int>(bad) - 1).mapping_id(), 0u);
  // Unsymbolized: address only.
  const uint64_t bare = b.LocationId(m, 0x6000, {});
  EXPECT_EQ(b.proto().location(static_cast<int>(bare) - 1).line_size(), 0);
}

TEST(ProfileBuilderTest, SyntheticLocationsDedupedByName) {
  ProfileBuilder b = OneTypeBuilder();
  const uint64_t a = b.SyntheticLocationId("[kernel] do_syscall_64");
  const uint64_t u = b.SyntheticLocationId("[unknown]");
  EXPECT_EQ(b.SyntheticLocationId("[kernel] do_syscall_64"), a);
  EXPECT_NE(a, u);
  const pb::Location& loc = b.proto().location(static_cast<int>(a) - 1);
  EXPECT_EQ(loc.address(), 0u);
  EXPECT_EQ(loc.mapping_id(), 0u);
  ASSERT_EQ(loc.line_size(), 1);
  EXPECT_EQ(
      S(b.proto(), FunctionById(b.proto(), loc.line(0).function_id()).name()),
      "[kernel] do_syscall_64");
}

TEST(ProfileBuilderTest, StringAndNumericLabels) {
  auto b = testing::MakeCpuProfile();
  const pb::Profile& p = b->proto();
  ASSERT_EQ(p.sample_size(), 3);
  const pb::Sample& s = p.sample(0);
  ASSERT_EQ(s.label_size(), 2);
  EXPECT_EQ(S(p, s.label(0).key()), "handler");
  EXPECT_EQ(S(p, s.label(0).str()), "checkout");
  EXPECT_EQ(s.label(0).num(), 0);
  EXPECT_EQ(S(p, s.label(1).key()), "bytes");
  EXPECT_EQ(s.label(1).str(), 0);
  EXPECT_EQ(s.label(1).num(), 4096);
  EXPECT_EQ(S(p, s.label(1).num_unit()), "bytes");
  ASSERT_EQ(s.value_size(), 2);
  EXPECT_EQ(s.value(1), 30'000'000);
  ASSERT_EQ(p.sample(1).location_id_size(), 3);
  EXPECT_EQ(p.sample(1).location_id(0), 3u) << "leaf first, as given";
}

TEST(ProfileBuilderTest, InvalidSamplesDroppedAndCounted) {
  auto b = testing::MakeCpuProfile();
  const size_t before = b->sample_count();
  const int strings_before = b->proto().string_table_size();
  const uint64_t ok_loc[] = {1};
  const uint64_t zero_loc[] = {0};
  const uint64_t unknown_loc[] = {1, 999};
  const SampleLabel no_key[] = {{.key = "", .str = "orphan-value"}};
  EXPECT_FALSE(b->AddSample(ok_loc, {1}, {}));          // too few values
  EXPECT_FALSE(b->AddSample(ok_loc, {1, 2, 3}, {}));    // too many
  EXPECT_FALSE(b->AddSample(zero_loc, {1, 2}, {}));     // id 0
  EXPECT_FALSE(b->AddSample(unknown_loc, {1, 2}, {}));  // never handed out
  EXPECT_FALSE(b->AddSample(ok_loc, {1, 2}, no_key));   // label w/o key
  EXPECT_EQ(b->dropped_sample_count(), 5u);
  EXPECT_EQ(b->sample_count(), before);
  EXPECT_EQ(b->proto().string_table_size(), strings_before)
      << "a refused sample must not intern its strings";
  EXPECT_TRUE(b->AddSample(ok_loc, {1, 2}, {}));
  EXPECT_EQ(b->sample_count(), before + 1);
  EXPECT_EQ(b->dropped_sample_count(), 5u);
}

}  // namespace
}  // namespace gspy
