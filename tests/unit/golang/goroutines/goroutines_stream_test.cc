// GetGoroutines' stream: a dump cut into parts and joined again
// (golang/goroutines/goroutines_stream.h).
#include "golang/goroutines/goroutines_stream.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gspy {
namespace {

gspy::v1::ProcessGoroutines Dump(int pid, int goroutines) {
  gspy::v1::ProcessGoroutines p;
  p.set_pid(pid);
  p.set_go_version("go1.26.8");
  for (int i = 0; i < goroutines; ++i) {
    gspy::v1::Goroutine* g = p.add_goroutines();
    g->set_goid(i + 1);
    g->set_status(gspy::v1::GOROUTINE_STATUS_WAITING);
    g->set_wait_reason("chan receive");
    for (int f = 0; f < 10; ++f) {
      g->add_frames()->set_function("main.handler" + std::to_string(f));
    }
  }
  p.set_total(goroutines + 7);
  p.set_filtered_out(7);
  p.set_dump_nanos(123);
  p.add_warnings("a warning");
  return p;
}

std::vector<gspy::v1::GetGoroutinesResponse> Parts(
    const gspy::v1::ProcessGoroutines& p, size_t part_bytes) {
  std::vector<gspy::v1::GetGoroutinesResponse> out;
  EXPECT_TRUE(EmitProcessParts(p, part_bytes,
                               [&](const gspy::v1::GetGoroutinesResponse& m) {
                                 out.push_back(m);
                                 return true;
                               }));
  return out;
}

TEST(GoroutinesStreamTest, ALargeDumpIsCutIntoBoundedPartsAndJoinedWhole) {
  const gspy::v1::ProcessGoroutines whole = Dump(42, 1000);
  const size_t goroutine_bytes = whole.goroutines(0).ByteSizeLong();
  const size_t part_bytes = 50 * goroutine_bytes;
  std::vector<gspy::v1::GetGoroutinesResponse> parts = Parts(whole, part_bytes);
  // 50 goroutines' worth of bytes a part, less the framing: 49 or 50 each.
  ASSERT_GE(parts.size(), 20u);
  ASSERT_LE(parts.size(), 21u);
  for (size_t i = 0; i < parts.size(); ++i) {
    const gspy::v1::ProcessGoroutines& p = parts[i].process();
    EXPECT_EQ(p.pid(), 42);
    EXPECT_EQ(p.go_version(), "go1.26.8");
    EXPECT_LE(p.ByteSizeLong(), part_bytes + 64) << "part " << i;
    EXPECT_EQ(parts[i].last_part(), i + 1 == parts.size());
    // The counts, for the whole dump, come once, with the last part.
    EXPECT_EQ(p.total(), parts[i].last_part() ? 1007 : 0);
    EXPECT_EQ(p.warnings_size(), parts[i].last_part() ? 1 : 0);
  }
  GoroutinesDumps joined;
  for (const gspy::v1::GetGoroutinesResponse& m : parts) {
    ASSERT_TRUE(joined.Add(m).ok());
  }
  ASSERT_TRUE(joined.Finish().ok());
  ASSERT_EQ(joined.processes.size(), 1u);
  EXPECT_EQ(joined.processes[0].SerializeAsString(), whole.SerializeAsString());
}

TEST(GoroutinesStreamTest, EmptyAndSmallDumpsAreOnePart) {
  for (int n : {0, 3}) {
    std::vector<gspy::v1::GetGoroutinesResponse> parts =
        Parts(Dump(7, n), kGoroutinesPartBytes);
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_TRUE(parts[0].last_part());
    EXPECT_EQ(parts[0].process().goroutines_size(), n);
  }
}

TEST(GoroutinesStreamTest, AGoroutineLargerThanAPartStillGoes) {
  std::vector<gspy::v1::GetGoroutinesResponse> parts = Parts(Dump(7, 3), 1);
  ASSERT_EQ(parts.size(), 3u);
  for (const auto& m : parts) EXPECT_EQ(m.process().goroutines_size(), 1);
}

TEST(GoroutinesStreamTest, SeveralProcessesWarningsAndPprofPieces) {
  GoroutinesDumps joined;
  auto add = [&](const gspy::v1::GetGoroutinesResponse& m) {
    EXPECT_TRUE(joined.Add(m).ok());
    return true;
  };
  gspy::v1::GetGoroutinesResponse warning;
  warning.add_warnings("pid 3: exited");
  add(warning);
  const size_t small = 5 * Dump(1, 1).goroutines(0).ByteSizeLong();
  EmitProcessParts(Dump(1, 12), small, add);
  EmitProcessParts(Dump(2, 4), small, add);
  const std::string pprof(2500, 'x');
  EmitPprofPieces(pprof, 1000, add);
  ASSERT_TRUE(joined.Finish().ok());
  ASSERT_EQ(joined.processes.size(), 2u);
  EXPECT_EQ(joined.processes[0].goroutines_size(), 12);
  EXPECT_EQ(joined.processes[1].goroutines_size(), 4);
  EXPECT_EQ(joined.processes[1].pid(), 2);
  EXPECT_EQ(joined.warnings, std::vector<std::string>{"pid 3: exited"});
  EXPECT_EQ(joined.pprof, pprof);
}

TEST(GoroutinesStreamTest, InterleavedOrUnfinishedProcessesAreErrors) {
  const size_t small = 5 * Dump(1, 1).goroutines(0).ByteSizeLong();
  std::vector<gspy::v1::GetGoroutinesResponse> a = Parts(Dump(1, 12), small);
  std::vector<gspy::v1::GetGoroutinesResponse> b = Parts(Dump(2, 12), small);
  ASSERT_GT(a.size(), 1u);
  GoroutinesDumps joined;
  ASSERT_TRUE(joined.Add(a[0]).ok());
  EXPECT_TRUE(absl::IsInternal(joined.Finish()));
  EXPECT_TRUE(absl::IsInternal(joined.Add(b[0])));
}

TEST(GoroutinesStreamTest, EmitStopsWhenTheClientIsGone) {
  int calls = 0;
  EXPECT_FALSE(EmitProcessParts(
      Dump(1, 10), 1,
      [&](const gspy::v1::GetGoroutinesResponse&) { return ++calls < 2; }));
  EXPECT_EQ(calls, 2);
}

}  // namespace
// Label sets (shared_label_sets) come first, in parts of their own, so that
// a goroutine's set has arrived before it; they join back in order.
TEST(GoroutinesStreamTest, LabelSetsComeFirstInTheirOwnParts) {
  gspy::v1::ProcessGoroutines whole = Dump(7, 10);
  for (int i = 0; i < 5; ++i) {
    gspy::v1::Label* l = whole.add_label_sets()->add_labels();
    l->set_key("k");
    l->set_value(std::string(3000, static_cast<char>('a' + i)));
  }
  for (gspy::v1::Goroutine& g : *whole.mutable_goroutines()) g.set_label_set(5);
  std::vector<gspy::v1::GetGoroutinesResponse> parts = Parts(whole, 7000);
  ASSERT_GE(parts.size(), 4u);
  bool goroutines_seen = false;
  int sets = 0;
  for (const gspy::v1::GetGoroutinesResponse& m : parts) {
    EXPECT_LE(m.process().ByteSizeLong(), 7000u + 64);
    if (m.process().label_sets_size() > 0) EXPECT_FALSE(goroutines_seen);
    goroutines_seen = goroutines_seen || m.process().goroutines_size() > 0;
    sets += m.process().label_sets_size();
  }
  EXPECT_EQ(sets, 5);
  GoroutinesDumps joined;
  for (const gspy::v1::GetGoroutinesResponse& m : parts) {
    ASSERT_TRUE(joined.Add(m).ok());
  }
  ASSERT_TRUE(joined.Finish().ok());
  ASSERT_EQ(joined.processes.size(), 1u);
  EXPECT_EQ(joined.processes[0].SerializeAsString(), whole.SerializeAsString());
}

}  // namespace gspy
