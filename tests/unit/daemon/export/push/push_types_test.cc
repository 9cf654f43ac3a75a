#include "daemon/export/push/push_types.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(PushTypesTest, ParsesNamesAndRejectsUnknownOnes) {
  absl::StatusOr<PushTypes> t = ParsePushTypes({"cpu", " Heap "});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->cpu);
  EXPECT_TRUE(t->heap);
  EXPECT_FALSE(t->block);
  EXPECT_FALSE(t->sampled());
  EXPECT_EQ(t->ToString(), "cpu,heap");

  t = ParsePushTypes({"all"});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ToString(), "cpu,block,wall,heap,goroutine");

  t = ParsePushTypes({"goroutines"});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->ToString(), "goroutine");

  t = ParsePushTypes({"cpu", "mutex"});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("\"mutex\""), std::string::npos);
  EXPECT_FALSE(ParsePushTypes({}).ok());
  EXPECT_FALSE(ParsePushTypes({""}).ok());
}

std::string Str(const perftools::profiles::Profile& p, int64_t i) {
  return p.string_table(static_cast<int>(i));
}

// A heap-shaped profile: four sample types, three samples.
perftools::profiles::Profile Heap() {
  perftools::profiles::Profile p;
  for (const char* s : {"", "alloc_objects", "count", "alloc_space", "bytes",
                        "inuse_objects", "inuse_space", "space"}) {
    p.add_string_table(s);
  }
  auto type = [&](int64_t t, int64_t u) {
    auto* v = p.add_sample_type();
    v->set_type(t);
    v->set_unit(u);
  };
  type(1, 2);
  type(3, 4);
  type(5, 2);
  type(6, 4);
  p.mutable_period_type()->set_type(7);
  p.mutable_period_type()->set_unit(4);
  for (const std::vector<int64_t>& v : std::vector<std::vector<int64_t>>{
           {1, 10, 0, 0}, {0, 0, 2, 20}, {3, 30, 4, 40}}) {
    auto* s = p.add_sample();
    for (int64_t x : v) s->add_value(x);
    s->add_location_id(static_cast<uint64_t>(p.sample_size()));
  }
  return p;
}

TEST(PushTypesTest, KeepSampleTypesKeepsValuesAndDropsEmptySamples) {
  perftools::profiles::Profile alloc = Heap();
  KeepSampleTypes(&alloc, {"alloc_objects", "alloc_space"});
  ASSERT_EQ(alloc.sample_type_size(), 2);
  EXPECT_EQ(Str(alloc, alloc.sample_type(0).type()), "alloc_objects");
  EXPECT_EQ(Str(alloc, alloc.sample_type(1).type()), "alloc_space");
  ASSERT_EQ(alloc.sample_size(), 2);  // the in-use-only sample goes
  EXPECT_EQ(alloc.sample(0).location_id(0), 1u);
  EXPECT_EQ(alloc.sample(0).value(1), 10);
  EXPECT_EQ(alloc.sample(1).location_id(0), 3u);
  EXPECT_EQ(alloc.sample(1).value(0), 3);

  perftools::profiles::Profile inuse = Heap();
  KeepSampleTypes(&inuse, {"inuse_objects", "inuse_space"});
  ASSERT_EQ(inuse.sample_size(), 2);
  EXPECT_EQ(inuse.sample(0).location_id(0), 2u);
  EXPECT_EQ(inuse.sample(0).value(1), 20);
  EXPECT_EQ(inuse.sample(1).value(1), 40);
}

TEST(PushTypesTest, RenamesWallToParcasWallclockTypes) {
  perftools::profiles::Profile p;
  for (const char* s : {"", "samples", "count", "wall", "nanoseconds"}) {
    p.add_string_table(s);
  }
  auto* a = p.add_sample_type();
  a->set_type(1);
  a->set_unit(2);
  auto* b = p.add_sample_type();
  b->set_type(3);
  b->set_unit(4);
  p.mutable_period_type()->set_type(3);
  p.mutable_period_type()->set_unit(4);
  RenameWallForParca(&p);
  EXPECT_EQ(Str(p, p.sample_type(0).type()), "samples");
  EXPECT_EQ(Str(p, p.sample_type(1).type()), "time");
  EXPECT_EQ(Str(p, p.sample_type(1).unit()), "nanoseconds");
  EXPECT_EQ(Str(p, p.period_type().type()), "wallclock");
  EXPECT_EQ(Str(p, p.default_sample_type()), "time");
}

}  // namespace
}  // namespace gspy
