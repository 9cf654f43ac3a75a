#include "daemon/aggregation/cpu_profile.h"

#include <cstring>

#include "gtest/gtest.h"
#include "profile/pprof/profile_builder.h"
#include "tests/unit/testing/fake_go_binary.h"

namespace gspy {
namespace {

using testing::FakeGoBinary;

GoProcess Process(int pid) { return testing::FakeProcess(pid); }

gspy_cpu_sample Sample(int pid, uint64_t goid,
                       std::vector<std::pair<std::string, std::string>> labels,
                       std::vector<uint64_t> user) {
  gspy_cpu_sample s{};
  s.pid = pid;
  s.goid = goid;
  testing::FillLabels(labels, s.labels, &s.label_count);
  s.user_depth = user.size();
  for (size_t i = 0; i < user.size(); ++i) s.frames[i] = user[i];
  return s;
}

perftools::profiles::Profile Decode(const std::string& gz) {
  absl::StatusOr<perftools::profiles::Profile> p = DecodeProfile(gz);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : perftools::profiles::Profile();
}

std::string Str(const perftools::profiles::Profile& p, int64_t i) {
  return p.string_table(static_cast<int>(i));
}

TEST(CpuProfileTest, AggregatesByStackLabelsAndGoroutine) {
  CpuProfileOptions opts;
  opts.goroutine_ids = true;
  opts.period_ns = 1000;
  CpuProfile profile(opts);
  profile.AddProcess(Process(7));
  for (int i = 0; i < 3; ++i) {
    profile.Add(Sample(7, 11, {{"handler", "alpha"}}, {0x1010, 0x2021}));
  }
  profile.Add(Sample(7, 12, {{"handler", "beta"}}, {0x1010, 0x2021}));
  profile.Add(Sample(8, 12, {}, {0x1010}));  // pid not in this profile
  EXPECT_EQ(profile.sample_count(), 4);

  perftools::profiles::Profile p = Decode(
      profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr, nullptr));
  ASSERT_EQ(p.sample_size(), 2);
  int64_t total = 0;
  for (const auto& s : p.sample()) {
    ASSERT_EQ(s.value_size(), 2);
    EXPECT_EQ(s.value(1), s.value(0) * 1000);
    total += s.value(0);
    std::string handler;
    int64_t goid = 0;
    for (const auto& l : s.label()) {
      if (Str(p, l.key()) == "handler") handler = Str(p, l.str());
      if (Str(p, l.key()) == "goid") goid = l.num();
    }
    if (handler == "alpha") {
      EXPECT_EQ(s.value(0), 3);
      EXPECT_EQ(goid, 11);
    } else {
      EXPECT_EQ(handler, "beta");
      EXPECT_EQ(goid, 12);
    }
  }
  EXPECT_EQ(total, 4);
  EXPECT_EQ(Str(p, p.period_type().type()), "cpu");
  EXPECT_EQ(p.period(), 1000);
}

TEST(CpuProfileTest, SymbolizesLeafAtPcAndCallersAtReturnAddressMinusOne) {
  CpuProfile profile(CpuProfileOptions{});
  profile.AddProcess(Process(7));
  // 0x2000 is main.main's first byte: as a return address it points after
  // a call in the function before it, so it must NOT symbolize as main.main.
  profile.Add(Sample(7, 1, {}, {0x1010, 0x2021, 0x7f0000000010}));
  perftools::profiles::Profile p = Decode(
      profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr, nullptr));
  ASSERT_EQ(p.sample_size(), 1);
  const auto& s = p.sample(0);
  ASSERT_EQ(s.location_id_size(), 3);
  auto loc = [&](uint64_t id) -> const perftools::profiles::Location& {
    for (const auto& l : p.location()) {
      if (l.id() == id) return l;
    }
    ADD_FAILURE() << "no location " << id;
    return p.location(0);
  };
  auto fn = [&](uint64_t id) {
    for (const auto& f : p.function()) {
      if (f.id() == id) return Str(p, f.name());
    }
    return std::string("?");
  };
  const auto& leaf = loc(s.location_id(0));
  ASSERT_EQ(leaf.line_size(), 2);  // main.hash inlined into main.work
  EXPECT_EQ(fn(leaf.line(0).function_id()), "main.hash");
  EXPECT_EQ(fn(leaf.line(1).function_id()), "main.work");
  EXPECT_EQ(leaf.line(1).line(), 0x10);  // the fake's line is pc - entry
  const auto& caller = loc(s.location_id(1));
  ASSERT_EQ(caller.line_size(), 1);
  EXPECT_EQ(fn(caller.line(0).function_id()), "main.main");
  EXPECT_EQ(caller.line(0).line(), 0x20);  // 0x2021 - 1 - 0x2000
  const auto& libc = loc(s.location_id(2));
  EXPECT_EQ(libc.line_size(), 0);  // not the Go binary: address only
  EXPECT_EQ(libc.address(), 0x7f0000000010u);
}

// One address can be a return address in one sample (a signal handler's
// frame holds the interrupted pc that way) and the interrupted pc, the leaf,
// in another: symbolized at address - 1 and at address, they are two
// locations, whichever comes first. (They shared one, the first sample's:
// an inlined leaf's samples then showed its caller.)
TEST(CpuProfileTest, AnAddressAsReturnAddressAndAsLeafMakesTwoLocations) {
  CpuProfile profile(CpuProfileOptions{});
  profile.AddProcess(Process(7));
  profile.Add(Sample(7, 1, {}, {0x1010, 0x2000}));  // 0x2000 returned to
  profile.Add(Sample(7, 1, {}, {0x2000}));          // 0x2000 interrupted
  perftools::profiles::Profile p = Decode(
      profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr, nullptr));
  ASSERT_EQ(p.sample_size(), 2);
  auto names = [&](uint64_t location_id) {
    std::vector<std::string> out;
    for (const auto& l : p.location()) {
      if (l.id() != location_id) continue;
      for (const auto& line : l.line()) {
        for (const auto& f : p.function()) {
          if (f.id() == line.function_id()) out.push_back(Str(p, f.name()));
        }
      }
    }
    return out;
  };
  for (const auto& s : p.sample()) {
    if (s.location_id_size() == 1) {
      EXPECT_EQ(names(s.location_id(0)), std::vector<std::string>{"main.main"});
    } else {
      ASSERT_EQ(s.location_id_size(), 2);
      // 0x1fff, the byte before main.main, is in no function.
      EXPECT_TRUE(names(s.location_id(1)).empty());
    }
  }
}

TEST(CpuProfileTest, KeepsOnlyAskedLabelKeys) {
  CpuProfileOptions opts;
  opts.label_keys = {"handler"};
  CpuProfile profile(opts);
  profile.AddProcess(Process(7));
  profile.Add(Sample(7, 1, {{"handler", "a"}, {"tenant", "x"}}, {0x1010}));
  perftools::profiles::Profile p = Decode(
      profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr, nullptr));
  ASSERT_EQ(p.sample_size(), 1);
  ASSERT_EQ(p.sample(0).label_size(), 1);
  EXPECT_EQ(Str(p, p.sample(0).label(0).key()), "handler");
}

TEST(CpuProfileTest, BoundsDistinctStacksAndReportsTheDrop) {
  CpuProfileOptions opts;
  opts.max_stacks = 2;
  CpuProfile profile(opts);
  profile.AddProcess(Process(7));
  for (uint64_t pc = 0x1000; pc < 0x1005; ++pc) {
    profile.Add(Sample(7, 1, {}, {pc}));
  }
  EXPECT_EQ(profile.sample_count(), 5);
  EXPECT_EQ(profile.dropped_count(), 3);
  std::vector<std::string> warnings;
  perftools::profiles::Profile p = Decode(
      profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr, &warnings));
  EXPECT_EQ(p.sample_size(), 2);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("3 of 5 samples dropped"), std::string::npos);
}

TEST(CpuProfileTest, ProcessesLabelSeveralPids) {
  CpuProfile profile(CpuProfileOptions{});
  profile.AddProcess(Process(7));
  profile.AddProcess(Process(9));
  profile.Add(Sample(7, 1, {}, {0x1010}));
  profile.Add(Sample(9, 1, {}, {0x1010}));
  perftools::profiles::Profile p = Decode(
      profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr, nullptr));
  ASSERT_EQ(p.sample_size(), 2);
  for (const auto& s : p.sample()) {
    ASSERT_EQ(s.label_size(), 1);
    EXPECT_EQ(Str(p, s.label(0).key()), "pid");
  }
}

}  // namespace
}  // namespace gspy

namespace gspy {
namespace {

// When gspyd backs off mid-profile, each sample weighs its own period: the
// cpu values add up to the CPU time the samples stand for, and the
// profile's period is their mean, so samples x period is that total too.
TEST(CpuProfileTest, SamplesWeighTheirOwnPeriodWhenTheRateChanges) {
  CpuProfileOptions opts;
  opts.period_ns = 10'000'000;  // 100 Hz configured
  CpuProfile profile(opts);
  profile.AddProcess(Process(7));
  for (int i = 0; i < 30; ++i) {
    gspy_cpu_sample s = Sample(7, 1, {}, {0x1010});
    s.period_ns = 10'000'000;  // at 100 Hz
    s.time_ns = 1'000'000'000 + i * 10'000'000;
    profile.Add(s);
  }
  for (int i = 0; i < 10; ++i) {
    gspy_cpu_sample s = Sample(7, 1, {}, {0x2021});
    s.period_ns = 50'000'000;  // backed off to 20 Hz
    s.time_ns = 1'300'000'000 + i * 50'000'000;
    profile.Add(s);
  }
  perftools::profiles::Profile p = Decode(
      profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr, nullptr));
  int64_t samples = 0, cpu = 0;
  for (const auto& s : p.sample()) {
    samples += s.value(0);
    cpu += s.value(1);
    // 30 samples of 10 ms, or 10 of 50 ms.
    EXPECT_EQ(s.value(1), s.value(0) == 30 ? 300'000'000 : 500'000'000);
  }
  EXPECT_EQ(samples, 40);
  EXPECT_EQ(cpu, 800'000'000);
  EXPECT_EQ(p.period(), 20'000'000);  // 800 ms / 40
  bool said = false;
  for (int64_t c : p.comment()) {
    // When, too: 30 samples at 100 Hz first, then 10 at 20 Hz.
    said = said ||
           (Str(p, c).find("sampling rate changed") != std::string::npos &&
            Str(p, c).find("Over time: 0.0-0.3 s every 10.0 ms (100.0 Hz, 30 "
                           "samples); 0.3-0.8 s every 50.0 ms (20.0 Hz, 10 "
                           "samples)") != std::string::npos);
  }
  EXPECT_TRUE(said);
}

TEST(CpuProfileTest, ABackedOffProfileCarriesTheLowerRate) {
  CpuProfileOptions opts;
  opts.period_ns = 10'000'000;
  CpuProfile profile(opts);
  profile.AddProcess(Process(7));
  gspy_cpu_sample s = Sample(7, 1, {}, {0x1010});
  s.period_ns = 40'000'000;
  for (int i = 0; i < 5; ++i) profile.Add(s);
  perftools::profiles::Profile p = Decode(
      profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr, nullptr));
  EXPECT_EQ(p.period(), 40'000'000);
  ASSERT_EQ(p.sample_size(), 1);
  EXPECT_EQ(p.sample(0).value(1), 200'000'000);
  bool said = false;
  for (int64_t c : p.comment()) {
    said = said || Str(p, c).find("backed off") != std::string::npos;
  }
  EXPECT_TRUE(said);
}

}  // namespace
}  // namespace gspy
