#include "daemon/export/push/otlp_profile.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/version.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

namespace otlp = opentelemetry::proto::profiles::v1development;
using opentelemetry::proto::collector::profiles::v1development::
    ExportProfilesServiceRequest;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// A block-shaped pprof: two sample types, three stacks (one with an
// inlined frame), string and numeric labels.
std::string BlockPprof() {
  ProfileBuilder b({{"contentions", "count"}, {"delay", "nanoseconds"}},
                   {"contentions", "count"}, 1);
  b.SetTime(absl::FromUnixSeconds(1700000000), absl::Seconds(15));
  const uint64_t m = b.AddMapping({.memory_start = 0x400000,
                                   .memory_limit = 0x800000,
                                   .filename = "/app/shop"});
  const Frame main_frame{.function = "main.main",
                         .file = "/src/main.go",
                         .line = 20,
                         .start_line = 10};
  const Frame wait{.function = "main.wait",
                   .file = "/src/wait.go",
                   .line = 7,
                   .start_line = 5};
  const Frame inlined{.function = "main.lock",
                      .file = "/src/lock.go",
                      .line = 3,
                      .start_line = 2,
                      .inlined = true};
  const uint64_t l_main =
      b.LocationId(m, 0x401000, absl::MakeConstSpan(&main_frame, 1));
  const uint64_t l_wait =
      b.LocationId(m, 0x402000, absl::MakeConstSpan(&wait, 1));
  const Frame both[] = {inlined, wait};
  const uint64_t l_lock = b.LocationId(m, 0x403000, both);
  const uint64_t l_kernel = b.SyntheticLocationId("[kernel] schedule");
  const SampleLabel chan{.key = "scenario", .str = "chan"};
  const SampleLabel mutex{.key = "scenario", .str = "mutex"};
  const SampleLabel bytes{
      .key = "size", .num = 64, .num_unit = "bytes", .is_num = true};
  EXPECT_TRUE(b.AddSample(std::vector<uint64_t>{l_wait, l_main},
                          std::vector<int64_t>{3, 3000}, {chan}));
  EXPECT_TRUE(b.AddSample(std::vector<uint64_t>{l_lock, l_main},
                          std::vector<int64_t>{2, 500},
                          std::vector<SampleLabel>{mutex, bytes}));
  // Counted but no delay: no sample in the delay profile.
  EXPECT_TRUE(b.AddSample(std::vector<uint64_t>{l_kernel, l_main},
                          std::vector<int64_t>{1, 0}, {}));
  return b.SerializeGzip();
}

PushProfile Pushed(std::string pprof, LabelList labels) {
  PushProfile p;
  p.pprof = std::move(pprof);
  p.labels = std::move(labels);
  p.id = "0123abcd-0000-4000-8000-00000000ff00";
  return p;
}

LabelList ShopLabels() {
  return {{"__name__", "block"},    {"container", "app"}, {"exe", "/app/shop"},
          {"namespace", "prod"},    {"pid", "4242"},      {"pod", "shop-1"},
          {"service_name", "shop"}, {"team", "pay"}};
}

// Reads the request back the way a consumer would: strings, not indices.
struct Reader {
  const ExportProfilesServiceRequest& r;
  const otlp::ProfilesDictionary& d = r.dictionary();

  const std::string& Str(int32_t i) const { return d.string_table(i); }
  std::string TypeOf(const otlp::Profile& p) const {
    return Str(p.sample_type().type_strindex()) + "/" +
           Str(p.sample_type().unit_strindex());
  }
  // A stack as "leaf;...;root" of function names with file:line.
  std::string Stack(int32_t stack) const {
    std::vector<std::string> frames;
    for (int32_t li : d.stack_table(stack).location_indices()) {
      for (const otlp::Line& line : d.location_table(li).lines()) {
        const otlp::Function& f = d.function_table(line.function_index());
        std::string frame = Str(f.name_strindex());
        if (f.filename_strindex() != 0) {
          frame +=
              absl::StrCat(" ", Str(f.filename_strindex()), ":", line.line());
        }
        frames.push_back(frame);
      }
    }
    return absl::StrJoin(frames, ";");
  }
  std::map<std::string, int64_t> Totals(const otlp::Profile& p) const {
    std::map<std::string, int64_t> out;
    for (const otlp::Sample& s : p.samples()) {
      for (int64_t v : s.values()) out[Stack(s.stack_index())] += v;
    }
    return out;
  }
  std::map<std::string, std::string> Attributes(const otlp::Sample& s) const {
    std::map<std::string, std::string> out;
    for (int32_t a : s.attribute_indices()) {
      const otlp::KeyValueAndUnit& kv = d.attribute_table(a);
      std::string v = kv.value().has_string_value()
                          ? kv.value().string_value()
                          : absl::StrCat(kv.value().int_value());
      if (kv.unit_strindex() != 0) v += " " + Str(kv.unit_strindex());
      out[Str(kv.key_strindex())] = v;
    }
    return out;
  }
};

std::map<std::string, std::string> ResourceOf(
    const otlp::ResourceProfiles& rp) {
  std::map<std::string, std::string> out;
  for (const auto& kv : rp.resource().attributes()) {
    out[kv.key()] = kv.value().has_int_value()
                        ? absl::StrCat("int:", kv.value().int_value())
                        : kv.value().string_value();
  }
  return out;
}

TEST(OtlpProfileTest, OneProfilePerSampleTypeWithTheSameStacksAndValues) {
  OtlpRequestBuilder builder;
  ASSERT_TRUE(builder.Add(Pushed(BlockPprof(), ShopLabels())).ok());
  const ExportProfilesServiceRequest req = std::move(builder).Take();
  const Reader r{req};

  ASSERT_EQ(req.resource_profiles_size(), 1);
  const otlp::ResourceProfiles& rp = req.resource_profiles(0);
  ASSERT_EQ(rp.scope_profiles_size(), 1);
  EXPECT_EQ(rp.scope_profiles(0).scope().name(), "gspy");
  EXPECT_EQ(rp.scope_profiles(0).scope().version(), kGspyVersion);
  const auto& profiles = rp.scope_profiles(0).profiles();
  ASSERT_EQ(profiles.size(), 2);

  EXPECT_EQ(r.TypeOf(profiles[0]), "contentions/count");
  EXPECT_EQ(r.TypeOf(profiles[1]), "delay/nanoseconds");
  const std::string main = "main.main /src/main.go:20";
  for (const otlp::Profile& p : profiles) {
    EXPECT_EQ(r.Str(p.period_type().type_strindex()), "contentions");
    EXPECT_EQ(r.Str(p.period_type().unit_strindex()), "count");
    EXPECT_EQ(p.period(), 1);
    EXPECT_EQ(p.time_unix_nano(), 1700000000ULL * 1000000000ULL);
    EXPECT_EQ(p.duration_nano(), 15ULL * 1000000000ULL);
    EXPECT_EQ(p.profile_id().size(), 16u);
  }
  EXPECT_NE(profiles[0].profile_id(), profiles[1].profile_id());
  EXPECT_EQ(profiles[0].profile_id()[0], '\x01');
  // Leaf first; an inlined frame before the function it was inlined into.
  EXPECT_THAT(
      r.Totals(profiles[0]),
      UnorderedElementsAre(
          Pair("main.wait /src/wait.go:7;" + main, 3),
          Pair("main.lock /src/lock.go:3;main.wait /src/wait.go:7;" + main, 2),
          Pair("[kernel] schedule;" + main, 1)));
  EXPECT_THAT(
      r.Totals(profiles[1]),
      UnorderedElementsAre(
          Pair("main.wait /src/wait.go:7;" + main, 3000),
          Pair("main.lock /src/lock.go:3;main.wait /src/wait.go:7;" + main,
               500)));
  // pprof labels as sample attributes, numbers with their unit.
  std::vector<std::map<std::string, std::string>> attrs;
  for (const otlp::Sample& s : profiles[1].samples()) {
    attrs.push_back(r.Attributes(s));
    EXPECT_EQ(s.values_size(), 1);
  }
  EXPECT_THAT(attrs,
              UnorderedElementsAre(ElementsAre(Pair("scenario", "chan")),
                                   ElementsAre(Pair("scenario", "mutex"),
                                               Pair("size", "64 bytes"))));
  // Mappings and addresses carried over.
  bool mapped = false;
  for (const otlp::Location& l : req.dictionary().location_table()) {
    if (l.address() == 0x402000) {
      const otlp::Mapping& m =
          req.dictionary().mapping_table(l.mapping_index());
      EXPECT_EQ(m.memory_start(), 0x400000u);
      EXPECT_EQ(m.memory_limit(), 0x800000u);
      EXPECT_EQ(r.Str(m.filename_strindex()), "/app/shop");
      mapped = true;
    }
  }
  EXPECT_TRUE(mapped);

  EXPECT_THAT(
      ResourceOf(rp),
      UnorderedElementsAre(
          Pair("service.name", "shop"), Pair("process.pid", "int:4242"),
          Pair("process.executable.path", "/app/shop"),
          Pair("process.executable.name", "shop"),
          Pair("k8s.namespace.name", "prod"), Pair("k8s.pod.name", "shop-1"),
          Pair("k8s.container.name", "app"), Pair("team", "pay"),
          Pair("process.runtime.name", "go")));
}

TEST(OtlpProfileTest, DictionaryStartsWithZeroValuesAndHoldsEachItemOnce) {
  OtlpRequestBuilder builder;
  ASSERT_TRUE(builder.Add(Pushed(BlockPprof(), ShopLabels())).ok());
  // The same process again (one resource), and another process.
  ASSERT_TRUE(builder.Add(Pushed(BlockPprof(), ShopLabels())).ok());
  LabelList other = ShopLabels();
  other[4].second = "4343";  // pid
  ASSERT_TRUE(builder.Add(Pushed(BlockPprof(), other)).ok());
  const ExportProfilesServiceRequest req = std::move(builder).Take();
  const otlp::ProfilesDictionary& d = req.dictionary();

  EXPECT_EQ(d.string_table(0), "");
  EXPECT_EQ(d.mapping_table(0).ByteSizeLong(), 0u);
  EXPECT_EQ(d.location_table(0).ByteSizeLong(), 0u);
  EXPECT_EQ(d.function_table(0).ByteSizeLong(), 0u);
  EXPECT_EQ(d.stack_table(0).ByteSizeLong(), 0u);
  EXPECT_EQ(d.attribute_table(0).ByteSizeLong(), 0u);
  EXPECT_EQ(d.link_table(0).trace_id(), std::string(16, '\0'));
  EXPECT_EQ(d.link_table(0).span_id(), std::string(8, '\0'));
  // 1 zero + 1 mapping; 4 functions (main, wait, lock, the synthetic
  // one); 4 locations; 3 stacks; 3 attributes.
  EXPECT_EQ(d.mapping_table_size(), 2);
  EXPECT_EQ(d.function_table_size(), 5);
  EXPECT_EQ(d.location_table_size(), 5);
  EXPECT_EQ(d.stack_table_size(), 4);
  EXPECT_EQ(d.attribute_table_size(), 4);
  std::map<std::string, int> strings;
  for (const std::string& s : d.string_table()) ++strings[s];
  for (const auto& [s, n] : strings) EXPECT_EQ(n, 1) << s;

  ASSERT_EQ(req.resource_profiles_size(), 2);
  EXPECT_EQ(req.resource_profiles(0).scope_profiles(0).profiles_size(), 4);
  EXPECT_EQ(req.resource_profiles(1).scope_profiles(0).profiles_size(), 2);
  EXPECT_EQ(ResourceOf(req.resource_profiles(1))["process.pid"], "int:4343");
}

TEST(OtlpProfileTest, RefusesAProfileThatDoesNotDecodeAndKeepsTheRest) {
  OtlpRequestBuilder builder;
  const absl::Status s = builder.Add(Pushed("\x1f\x8b not gzip", {}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  ASSERT_TRUE(builder.Add(Pushed(BlockPprof(), ShopLabels())).ok());
  const ExportProfilesServiceRequest req = std::move(builder).Take();
  ASSERT_EQ(req.resource_profiles_size(), 1);
  EXPECT_EQ(req.resource_profiles(0).scope_profiles(0).profiles_size(), 2);
}

TEST(OtlpProfileTest, ResourceNamesFollowTheSemanticConventions) {
  const auto resource = OtlpResource({{"__name__", "process_cpu"},
                                      {"exe", "/usr/bin/app"},
                                      {"node", "n1"},
                                      {"pid", "x"},
                                      {"service_name", "s"}});
  std::map<std::string, std::string> got;
  for (const auto& kv : resource.attributes()) {
    got[kv.key()] = kv.value().string_value();
  }
  EXPECT_THAT(got, UnorderedElementsAre(
                       Pair("process.executable.path", "/usr/bin/app"),
                       Pair("process.executable.name", "app"),
                       Pair("k8s.node.name", "n1"),
                       // Not a number: kept as it is, as a string.
                       Pair("process.pid", "x"), Pair("service.name", "s"),
                       Pair("process.runtime.name", "go")));
}

}  // namespace
}  // namespace gspy
