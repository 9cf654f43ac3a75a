#include "profile/redact/redactor.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

namespace pb = perftools::profiles;

constexpr const char* kSecrets[] = {"handleSecretToken", "secrets.go",
                                    "alice@example.com"};

// A CPU profile written by Go's own runtime/pprof (see
// tests/fixtures/pprof/secretcpu): main.handleSecretToken in secrets.go runs
// under user=alice@example.com, main.spin under user=bob@example.com.
std::string Fixture() {
  std::ifstream in(GSPY_PPROF_FIXTURE_DIR "/secret_cpu.pb.gz",
                   std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

KeyedHash Key(char fill) { return *KeyedHash::FromKey(std::string(32, fill)); }

std::unique_ptr<Redactor> Make(RedactOptions options, char key = 'k') {
  absl::StatusOr<std::unique_ptr<Redactor>> r =
      Redactor::Create(options, Key(key));
  EXPECT_TRUE(r.ok()) << r.status();
  return *std::move(r);
}

RedactOptions SecretOptions() {
  return {.functions = "handleSecret",
          .files = R"(secrets\.go)",
          .redact_labels = {"user"}};
}

const std::string& Str(const pb::Profile& p, int64_t i) {
  return p.string_table(static_cast<int>(i));
}

// Each sample as "leaf;...;root" of function names -> summed values.
std::map<std::string, std::vector<int64_t>> ByStack(const pb::Profile& p) {
  std::map<uint64_t, const pb::Function*> functions;
  for (const pb::Function& f : p.function()) functions[f.id()] = &f;
  std::map<uint64_t, const pb::Location*> locations;
  for (const pb::Location& l : p.location()) locations[l.id()] = &l;
  std::map<std::string, std::vector<int64_t>> out;
  for (const pb::Sample& s : p.sample()) {
    std::vector<std::string> names;
    for (uint64_t id : s.location_id()) {
      for (const pb::Line& line : locations[id]->line()) {
        names.push_back(Str(p, functions[line.function_id()]->name()));
      }
    }
    std::vector<int64_t>& sum = out[absl::StrJoin(names, ";")];
    sum.resize(s.value_size());
    for (int i = 0; i < s.value_size(); ++i) sum[i] += s.value(i);
  }
  return out;
}

TEST(RedactorTest, FixtureHoldsTheSecrets) {
  const std::string raw = *MaybeGunzip(Fixture());
  for (const char* s : kSecrets) {
    EXPECT_NE(raw.find(s), std::string::npos) << s;
  }
}

TEST(RedactorTest, GoProfileLosesSecretsButNoSample) {
  absl::StatusOr<pb::Profile> before = DecodeProfile(Fixture());
  ASSERT_TRUE(before.ok()) << before.status();
  absl::StatusOr<std::string> out =
      Make(SecretOptions())->RedactPprof(Fixture());
  ASSERT_TRUE(out.ok()) << out.status();
  const std::string raw = *MaybeGunzip(*out);
  for (const char* s : kSecrets) {
    EXPECT_EQ(raw.find(s), std::string::npos) << s << " survived redaction";
  }
  absl::StatusOr<pb::Profile> after = DecodeProfile(*out);
  ASSERT_TRUE(after.ok()) << after.status();

  // Same samples, same locations, same values, in the same order.
  ASSERT_EQ(after->sample_size(), before->sample_size());
  for (int i = 0; i < before->sample_size(); ++i) {
    EXPECT_EQ(absl::StrJoin(after->sample(i).location_id(), ","),
              absl::StrJoin(before->sample(i).location_id(), ","));
    EXPECT_EQ(absl::StrJoin(after->sample(i).value(), ","),
              absl::StrJoin(before->sample(i).value(), ","));
  }
  // Per stack shape: the redacted stacks are the secret ones renamed.
  std::map<std::string, std::vector<int64_t>> want;
  for (auto& [stack, values] : ByStack(*before)) {
    std::string renamed = stack;
    for (size_t at;
         (at = renamed.find("main.handleSecretToken")) != std::string::npos;) {
      renamed.replace(at, strlen("main.handleSecretToken"), "[redacted]");
    }
    want[renamed] = values;
  }
  EXPECT_EQ(ByStack(*after), want);
  bool any_redacted = false;
  for (const auto& [stack, v] : want) {
    any_redacted |= stack.find("[redacted]") != std::string::npos;
  }
  EXPECT_TRUE(any_redacted) << "the fixture has no handleSecretToken sample";

  // The redacted function has no file or line; the others keep theirs.
  for (const pb::Function& f : after->function()) {
    if (Str(*after, f.name()) == "[redacted]") {
      EXPECT_EQ(Str(*after, f.filename()), "");
      EXPECT_EQ(f.start_line(), 0);
    } else if (Str(*after, f.name()) == "main.spin") {
      EXPECT_NE(Str(*after, f.filename()).find("main.go"), std::string::npos);
    }
  }
  // A location with a redacted frame has no address (the binary would
  // symbolize it again); the others keep theirs.
  int kept_addresses = 0;
  for (const pb::Location& l : after->location()) {
    bool redacted = false;
    for (const pb::Line& line : l.line()) {
      for (const pb::Function& f : after->function()) {
        if (f.id() == line.function_id() &&
            Str(*after, f.name()) == "[redacted]") {
          EXPECT_EQ(line.line(), 0);
          redacted = true;
        }
      }
    }
    if (redacted) {
      EXPECT_EQ(l.address(), 0u) << "location " << l.id();
    } else {
      kept_addresses += l.address() != 0;
    }
  }
  EXPECT_GT(kept_addresses, 0) << "addresses of other frames were lost";
}

// The values a label key takes in a profile.
std::vector<std::string> Values(const pb::Profile& p, const std::string& key) {
  std::vector<std::string> out;
  for (const pb::Sample& s : p.sample()) {
    for (const pb::Label& l : s.label()) {
      if (Str(p, l.key()) == key) out.push_back(Str(p, l.str()));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

TEST(RedactorTest, LabelValuesAreKeyedHashes) {
  pb::Profile p = *DecodeProfile(Fixture());
  ASSERT_EQ(Values(p, "user").size(), 2u);  // alice and bob
  Make(SecretOptions())->RedactProfile(&p);
  const std::vector<std::string> users = Values(p, "user");
  ASSERT_EQ(users.size(), 2u) << "two users must stay two hashes";
  for (const std::string& u : users) {
    EXPECT_EQ(u.rfind("redacted:", 0), 0u) << u;
    EXPECT_EQ(u.size(), strlen("redacted:") + 16) << u;
  }
  EXPECT_EQ(Values(p, "route"), std::vector<std::string>{"/login"});

  const std::unique_ptr<Redactor> r = Make(SecretOptions());
  const std::string alice = *r->LabelValue("user", "alice@example.com");
  EXPECT_NE(std::find(users.begin(), users.end(), alice), users.end());
  EXPECT_EQ(*Make(SecretOptions())->LabelValue("user", "alice@example.com"),
            alice)
      << "stable under one key";
  EXPECT_NE(
      *Make(SecretOptions(), 'x')->LabelValue("user", "alice@example.com"),
      alice)
      << "another key, another hash";
}

TEST(RedactorTest, DroppedLabelsAreGone) {
  pb::Profile p = *DecodeProfile(Fixture());
  const int samples = p.sample_size();
  Make({.drop_labels = {"user"}})->RedactProfile(&p);
  EXPECT_TRUE(Values(p, "user").empty());
  EXPECT_EQ(Values(p, "route"), std::vector<std::string>{"/login"});
  EXPECT_EQ(p.sample_size(), samples);
  const std::string raw = p.SerializeAsString();
  EXPECT_EQ(raw.find("alice@example.com"), std::string::npos);
  EXPECT_EQ(raw.find("bob@example.com"), std::string::npos);
}

TEST(RedactorTest, SharedFileOfAKeptFunctionStays) {
  // Only the function pattern: main.go is shared by kept functions, and
  // secrets.go only by the redacted one.
  pb::Profile p = *DecodeProfile(Fixture());
  Make({.functions = "handleSecret"})->RedactProfile(&p);
  const std::string raw = p.SerializeAsString();
  EXPECT_EQ(raw.find("handleSecretToken"), std::string::npos);
  EXPECT_EQ(raw.find("secrets.go"), std::string::npos);
  EXPECT_NE(raw.find("main.go"), std::string::npos);
  EXPECT_NE(raw.find("alice@example.com"), std::string::npos)
      << "labels were not asked for";
}

TEST(RedactorTest, GoroutineIdsInProfilesAndDumpsAgree) {
  ProfileBuilder b({{"samples", "count"}}, {"cpu", "nanoseconds"}, 1);
  const Frame frame[] = {{"main.work", "/src/main.go", 3, 1, false}};
  const uint64_t loc = b.LocationId(0, 0x1000, frame);
  const SampleLabel labels[] = {{.key = "goid", .num = 7, .is_num = true},
                                {.key = "pid", .num = 7, .is_num = true}};
  ASSERT_TRUE(b.AddSample({loc}, {5}, labels));
  pb::Profile p = b.proto();
  const std::unique_ptr<Redactor> r = Make({.anonymize_goroutine_ids = true});
  r->RedactProfile(&p);
  const int64_t anon = r->GoroutineId(7);
  EXPECT_NE(anon, 7);
  EXPECT_GT(anon, 0);
  EXPECT_EQ(r->GoroutineId(0), 0) << "unknown stays unknown";
  EXPECT_NE(Make({.anonymize_goroutine_ids = true}, 'x')->GoroutineId(7), anon);
  for (const pb::Label& l : p.sample(0).label()) {
    if (Str(p, l.key()) == "goid") EXPECT_EQ(l.num(), anon);
    if (Str(p, l.key()) == "pid") EXPECT_EQ(l.num(), 7) << "pids are not goids";
  }

  gspy::v1::ProcessGoroutines dump;
  gspy::v1::Goroutine* g = dump.add_goroutines();
  g->set_goid(7);
  g->set_parent_goid(1);
  r->RedactGoroutines(&dump);
  EXPECT_EQ(dump.goroutines(0).goid(), anon);
  EXPECT_EQ(dump.goroutines(0).parent_goid(), r->GoroutineId(1));
  EXPECT_NE(dump.goroutines(0).parent_goid(), 1);
}

TEST(RedactorTest, DumpFramesCreatorsAndLabels) {
  gspy::v1::ProcessGoroutines dump;
  gspy::v1::Goroutine* g = dump.add_goroutines();
  g->set_goid(12);
  auto frame = [](gspy::v1::StackFrame* f, const char* fn, const char* file,
                  int line, uint64_t pc) {
    f->set_function(fn);
    f->set_file(file);
    f->set_line(line);
    f->set_pc(pc);
    f->set_offset(0x10);
  };
  frame(g->add_frames(), "main.handleSecretToken", "/src/secrets.go", 6,
        0x1234);
  // Inlined at the secret's pc: kept, but the pc would name the secret.
  frame(g->add_frames(), "main.wrapper", "/src/main.go", 12, 0x1234);
  frame(g->add_frames(), "main.helper", "/src/secrets.go", 9, 0x2345);
  frame(g->add_frames(), "main.main", "/src/main.go", 20, 0x3456);
  frame(g->mutable_created_by(), "main.handleSecretToken", "/src/secrets.go", 7,
        0x4567);
  for (auto [k, v] : {std::pair{"route", "/login"}, std::pair{"tenant", "acme"},
                      std::pair{"user", "alice@example.com"}}) {
    gspy::v1::Label* l = g->add_labels();
    l->set_key(k);
    l->set_value(v);
  }
  RedactOptions options = SecretOptions();
  options.drop_labels = {"tenant"};
  Make(options)->RedactGoroutines(&dump);
  const std::string bytes = dump.SerializeAsString();
  for (const char* s : {"handleSecretToken", "secrets.go", "alice@example.com",
                        "acme", "helper"}) {
    EXPECT_EQ(bytes.find(s), std::string::npos) << s;
  }
  const gspy::v1::Goroutine& out = dump.goroutines(0);
  ASSERT_EQ(out.frames_size(), 4) << "no frame removed";
  EXPECT_EQ(out.frames(0).function(), "[redacted]");
  EXPECT_EQ(out.frames(0).file(), "");
  EXPECT_EQ(out.frames(0).line(), 0);
  EXPECT_EQ(out.frames(0).pc(), 0u) << "an address symbolizes again";
  EXPECT_EQ(out.frames(0).offset(), 0u);
  EXPECT_EQ(out.frames(1).function(), "main.wrapper");
  EXPECT_EQ(out.frames(1).line(), 12);
  EXPECT_EQ(out.frames(1).pc(), 0u) << "it shares the redacted frame's pc";
  EXPECT_EQ(out.frames(2).function(), "[redacted]") << "by its file";
  EXPECT_EQ(out.frames(2).pc(), 0u);
  EXPECT_EQ(out.frames(3).function(), "main.main");
  EXPECT_EQ(out.frames(3).line(), 20);
  EXPECT_EQ(out.frames(3).pc(), 0x3456u);
  EXPECT_EQ(out.frames(3).offset(), 0x10u);
  EXPECT_EQ(out.created_by().function(), "[redacted]");
  EXPECT_EQ(out.created_by().pc(), 0u);
  ASSERT_EQ(out.labels_size(), 2);
  EXPECT_EQ(out.labels(0).key(), "route");
  EXPECT_EQ(out.labels(0).value(), "/login");
  EXPECT_EQ(out.labels(1).key(), "user");
  EXPECT_EQ(out.labels(1).value().rfind("redacted:", 0), 0u);
  EXPECT_EQ(out.goid(), 12) << "ids were not asked for";
}

TEST(RedactorTest, LabelPairs) {
  std::vector<std::pair<std::string, std::string>> labels = {
      {"pid", "1"}, {"user", "alice@example.com"}, {"tenant", "acme"}};
  RedactOptions options = SecretOptions();
  options.drop_labels = {"tenant"};
  Make(options)->RedactLabelPairs(&labels);
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0], (std::pair<std::string, std::string>{"pid", "1"}));
  EXPECT_EQ(labels[1].first, "user");
  EXPECT_EQ(labels[1].second.rfind("redacted:", 0), 0u);
}

TEST(RedactorTest, FiltersThatCouldTestSecretsAreRefused) {
  const std::unique_ptr<Redactor> r = Make(SecretOptions());
  auto check = [&](const char* text) {
    absl::StatusOr<SampleFilter> f = SampleFilter::Parse(text);
    EXPECT_TRUE(f.ok()) << f.status();
    return r->CheckFilter(&*f);
  };
  EXPECT_FALSE(check("stack:~Secret").ok());
  EXPECT_FALSE(check("label:user=~^alice").ok());
  EXPECT_FALSE(check("-label:user").ok());
  EXPECT_TRUE(check("label:route=/login status:running").ok());
  EXPECT_TRUE(r->CheckFilter(nullptr).ok());
  // Without frame redaction, stack terms are fine.
  absl::StatusOr<SampleFilter> stack = SampleFilter::Parse("stack:~Secret");
  EXPECT_TRUE(Make({.redact_labels = {"user"}})->CheckFilter(&*stack).ok());
  EXPECT_TRUE(Redactor::None().CheckFilter(&*stack).ok());
}

TEST(RedactorTest, InactiveChangesNothing) {
  const Redactor& none = Redactor::None();
  EXPECT_FALSE(none.active());
  absl::StatusOr<std::string> out = none.RedactPprof(Fixture());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, Fixture());
  EXPECT_EQ(none.GoroutineId(7), 7);
}

TEST(RedactorTest, BadOptionsAreRefused) {
  EXPECT_FALSE(Redactor::Create({.functions = "("}, Key('k')).ok());
  EXPECT_FALSE(Redactor::Create({.files = "[a"}, Key('k')).ok());
  EXPECT_FALSE(
      Redactor::Create({.redact_labels = {"user"}, .drop_labels = {"user"}},
                       Key('k'))
          .ok());
  EXPECT_FALSE(
      Redactor::Create({.anonymize_goroutine_ids = true}, std::nullopt).ok());
  // A profile that does not decode is an error, never passed through.
  EXPECT_FALSE(Make(SecretOptions())->RedactPprof("not a profile").ok());
}

}  // namespace
}  // namespace gspy
