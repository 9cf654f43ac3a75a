#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>

#include "profile/pprof/profile_builder.h"
#include "tests/unit/profile/pprof/test_profiles.h"

namespace gspy {
namespace {

namespace pb = perftools::profiles;
using google::protobuf::util::MessageDifferencer;

TEST(DecodeProfileTest, RoundTripThroughGzip) {
  auto b = testing::MakeCpuProfile();
  const std::string bytes = b->SerializeGzip();
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 0x1f);
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]), 0x8b);
  absl::StatusOr<pb::Profile> decoded = DecodeProfile(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  std::string diff;
  MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(b->proto(), *decoded)) << diff;
}

TEST(DecodeProfileTest, AcceptsUncompressed) {
  auto b = testing::MakeCpuProfile();
  absl::StatusOr<pb::Profile> decoded =
      DecodeProfile(b->proto().SerializeAsString());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(MessageDifferencer::Equals(b->proto(), *decoded));
}

// Each case corrupts a valid profile one way and expects a clear error.
struct Corruption {
  const char* name;
  void (*apply)(pb::Profile&);
  const char* message;
};

class DecodeProfileRejectsTest : public ::testing::TestWithParam<Corruption> {};

TEST_P(DecodeProfileRejectsTest, Rejects) {
  pb::Profile p = testing::MakeCpuProfile()->proto();
  GetParam().apply(p);
  absl::StatusOr<pb::Profile> decoded =
      DecodeProfile(GzipCompress(p.SerializeAsString()));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(std::string(decoded.status().message()).find(GetParam().message),
            std::string::npos)
      << decoded.status();
}

INSTANTIATE_TEST_SUITE_P(
    Corruptions, DecodeProfileRejectsTest,
    ::testing::Values(
        Corruption{"FirstStringNotEmpty",
                   [](pb::Profile& p) { p.set_string_table(0, "x"); },
                   "string_table[0] must be ''"},
        Corruption{"NoStrings", [](pb::Profile& p) { p.clear_string_table(); },
                   "string_table[0] must be ''"},
        Corruption{
            "StringIndexOutOfRange",
            [](pb::Profile& p) { p.mutable_function(0)->set_name(1000); },
            "out of range"},
        Corruption{"NegativeStringIndex",
                   [](pb::Profile& p) {
                     p.mutable_sample(0)->mutable_label(0)->set_key(-1);
                   },
                   "out of range"},
        Corruption{
            "UnknownLocation",
            [](pb::Profile& p) { p.mutable_sample(0)->add_location_id(77); },
            "unknown location_id 77"},
        Corruption{"UnknownFunction",
                   [](pb::Profile& p) {
                     p.mutable_location(0)->mutable_line(0)->set_function_id(
                         55);
                   },
                   "unknown function_id 55"},
        Corruption{
            "UnknownMapping",
            [](pb::Profile& p) { p.mutable_location(0)->set_mapping_id(9); },
            "unknown mapping_id 9"},
        Corruption{"DuplicateLocationId",
                   [](pb::Profile& p) { p.mutable_location(1)->set_id(1); },
                   "not unique"},
        Corruption{"ZeroFunctionId",
                   [](pb::Profile& p) { p.mutable_function(0)->set_id(0); },
                   "id 0"},
        Corruption{"ValueCountMismatch",
                   [](pb::Profile& p) { p.mutable_sample(1)->add_value(1); },
                   "has 3 values, want 2"},
        Corruption{"SamplesWithoutTypes",
                   [](pb::Profile& p) { p.clear_sample_type(); },
                   "no sample types"}),
    [](const ::testing::TestParamInfo<Corruption>& info) {
      return std::string(info.param.name);
    });

TEST(DecodeProfileTest, RejectsGarbage) {
  EXPECT_FALSE(DecodeProfile("\x1f\x8bnot really gzip").ok());
  EXPECT_FALSE(DecodeProfile("\xff\xff\xff\xff not a proto").ok());
  // Empty input parses as an empty proto with no string table.
  EXPECT_FALSE(DecodeProfile("").ok());
}

// Go's pprof labels are Go strings, any bytes (a binary request id, say);
// runtime/pprof and go tool pprof take them as they are. A profile with
// one used to fail to parse ("not a pprof profile"), whether Go or gspyd
// (labels read from the process) wrote it. Found by tests/fuzz/pprof_fuzz.
TEST(DecodeProfileTest, StringsNeedNotBeUtf8) {
  const std::string binary("id-\xff\xfe\xc0", 6);
  ProfileBuilder b({{"samples", "count"}}, {"cpu", "nanoseconds"}, 10);
  const uint64_t loc = b.SyntheticLocationId("main.handle");
  const SampleLabel labels[] = {{.key = "request", .str = binary}};
  const uint64_t stack[] = {loc};
  ASSERT_TRUE(b.AddSample(stack, {1}, labels));
  absl::StatusOr<pb::Profile> decoded = DecodeProfile(b.SerializeGzip());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->sample_size(), 1);
  ASSERT_EQ(decoded->sample(0).label_size(), 1);
  EXPECT_EQ(decoded->string_table(decoded->sample(0).label(0).str()), binary);
}

}  // namespace
}  // namespace gspy
