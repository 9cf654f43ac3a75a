// Goroutine leak detection on synthetic dump series: what keeps growing is
// reported with its rate and code path; populations that fluctuate, fill and
// drain, or grow and shrink are not.
#include "golang/goroutines/leak_detector.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "golang/goroutines/series_growth.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A code path: who created the goroutines and the functions they park in,
// leaf first.
struct Path {
  std::string creator;
  std::vector<std::string> stack;
  std::string reason = "chan receive";
};

const Path kLeak{"main.leakyHandler",
                 {"runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1",
                  "main.waitForReply", "runtime.goexit"}};
const Path kRequest{"net/http.(*Server).Serve",
                    {"runtime.gopark", "runtime.selectgo", "main.handle",
                     "net/http.(*conn).serve", "runtime.goexit"},
                    "select"};
const Path kPool{"main.startPool",
                 {"runtime.gopark", "runtime.chanrecv", "runtime.chanrecv2",
                  "main.poolWorker", "runtime.goexit"}};

// Builds the dumps of one process: Add(path, n) adds n goroutines to the
// current dump, with fresh goroutine ids.
class DumpBuilder {
 public:
  explicit DumpBuilder(int pid) { dump_.set_pid(pid); }
  DumpBuilder& Add(const Path& path, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      gspy::v1::Goroutine* g = dump_.add_goroutines();
      g->set_goid(next_goid_++);
      g->set_status(gspy::v1::GOROUTINE_STATUS_WAITING);
      g->set_wait_reason(path.reason);
      for (size_t f = 0; f < path.stack.size(); ++f) {
        gspy::v1::StackFrame* fr = g->add_frames();
        fr->set_function(path.stack[f]);
        fr->set_file("/src/main.go");
        fr->set_line(static_cast<int64_t>(10 * f + 1));
        fr->set_pc(0x401000 + 0x10 * f);
      }
      g->mutable_created_by()->set_function(path.creator);
      g->mutable_created_by()->set_file("/src/main.go");
      g->mutable_created_by()->set_line(99);
    }
    return *this;
  }
  // The dump built so far; starts the next one.
  gspy::v1::ProcessGoroutines Take() {
    gspy::v1::ProcessGoroutines out = dump_;
    dump_.clear_goroutines();
    return out;
  }

 private:
  gspy::v1::ProcessGoroutines dump_;
  int64_t next_goid_ = 100;
};

absl::Time At(double seconds) {
  return absl::UnixEpoch() + absl::Seconds(1'700'000'000) +
         absl::Seconds(seconds);
}

TEST(LeakDetectorTest, LinearLeakIsReportedWithItsRateAndPath) {
  LeakDetector detector;
  DumpBuilder b(42);
  for (int i = 0; i <= 12; ++i) {
    const int jitter = (i % 3) - 1;  // a snapshot lands a little early or late
    b.Add(kLeak, 5 + 20 * i + jitter).Add(kRequest, 50 + (i % 2) * 8);
    detector.Add(At(i), b.Take());
  }
  const std::vector<ProcessLeaks> result = detector.Analyze();
  ASSERT_EQ(result.size(), 1u);
  const ProcessLeaks& p = result[0];
  EXPECT_EQ(p.pid, 42);
  EXPECT_EQ(p.snapshots, 13);
  EXPECT_EQ(p.span, absl::Seconds(12));
  EXPECT_EQ(p.groups, 2);
  EXPECT_TRUE(p.note.empty());
  ASSERT_EQ(p.growing.size(), 1u);
  const GroupTrend& g = p.growing[0];
  EXPECT_NEAR(g.rate_per_second, 20.0, 0.2);
  EXPECT_GT(g.r2, 0.99);
  EXPECT_EQ(g.created_by, "main.leakyHandler");
  EXPECT_EQ(g.created_at, "/src/main.go:99");
  ASSERT_EQ(g.stack.size(), 1u);  // runtime frames above it and goexit hidden
  EXPECT_EQ(g.stack[0].function, "main.waitForReply");
  EXPECT_EQ(g.stack[0].line, 31);
  EXPECT_EQ(g.start_count, 4);
  EXPECT_EQ(g.end_count, 5 + 240 - 1);
  EXPECT_EQ(g.state, "chan receive");
  EXPECT_EQ(g.sample_goids.size(), 5u);
  EXPECT_TRUE(std::is_sorted(g.sample_goids.begin(), g.sample_goids.end()));
  EXPECT_TRUE(g.reason.empty());
}

// Requests whose number follows a wave plus noise, and a worker pool that
// is anywhere between empty and full: over many random series, none is
// reported, though a last-minus-first check flags many.
TEST(LeakDetectorTest, SteadyFluctuatingPopulationsAreNotReported) {
  int naive_flags = 0;
  for (int seed = 0; seed < 200; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> noise(-15, 15), pool(0, 30);
    std::uniform_real_distribution<double> phase(0, 2 * kPi);
    const double ph = phase(rng);
    LeakDetector detector;
    DumpBuilder b(7);
    for (int i = 0; i <= 12; ++i) {
      const int requests = static_cast<int>(
          100 + 40 * std::sin(2 * kPi * i / 4.0 + ph) + noise(rng));
      b.Add(kRequest, requests).Add(kPool, pool(rng));
      detector.Add(At(i), b.Take());
    }
    const ProcessLeaks p = detector.Analyze()[0];
    EXPECT_TRUE(p.growing.empty())
        << "seed " << seed << ": " << p.growing[0].created_by << " rate "
        << p.growing[0].rate_per_second << " R2 " << p.growing[0].r2;
    naive_flags += static_cast<int>(p.not_steady.size());
    for (const GroupTrend& t : p.not_steady) {
      EXPECT_GE(t.end_count - t.start_count, 10);
      EXPECT_FALSE(t.reason.empty());
    }
  }
  EXPECT_GT(naive_flags, 50);
}

// A batch that fills at 15/s for 4 s and is released, every 5 s, at any
// phase: each fill looks like a leak for 4 s, but not over 12 s.
TEST(LeakDetectorTest, BatchesThatFillAndDrainAreNotReported) {
  for (int tenth = 0; tenth < 50; ++tenth) {
    const double offset = tenth / 10.0;
    std::vector<CountPoint> points;
    for (int i = 0; i <= 12; ++i) {
      const double phase = std::fmod(i + offset, 5.0);
      points.push_back(
          {At(i), phase < 4 ? static_cast<int64_t>(15 * phase) : int64_t{0}});
    }
    const GrowthVerdict v = JudgeGrowth(points, GrowthCriterion{});
    EXPECT_FALSE(v.growing) << "offset " << offset << " R2 " << v.fit.r2;
  }
}

TEST(LeakDetectorTest, GroupThatGrowsThenShrinksIsNotReported) {
  LeakDetector detector;
  DumpBuilder b(1);
  const int counts[] = {0, 20, 40, 60, 80, 100, 120, 100, 80, 60, 40, 20, 0};
  for (int i = 0; i < 13; ++i) {
    detector.Add(At(i), b.Add(kPool, counts[i]).Take());
  }
  ProcessLeaks p = detector.Analyze()[0];
  EXPECT_TRUE(p.growing.empty());
  EXPECT_TRUE(p.not_steady.empty());  // no net growth at all

  // Rose steadily for 10 snapshots, then fell back part of the way: the
  // line still rises and fits and the peak is in the last third; the fall
  // from it is what says it stopped growing.
  LeakDetector partial;
  const int rise_fall[] = {0,   20,  40,  60,  80,  100, 120,
                           140, 160, 180, 200, 170, 140};
  for (int i = 0; i < 13; ++i) {
    partial.Add(At(i), b.Add(kPool, rise_fall[i]).Take());
  }
  p = partial.Analyze()[0];
  EXPECT_TRUE(p.growing.empty());
  ASSERT_EQ(p.not_steady.size(), 1u);
  EXPECT_NE(p.not_steady[0].reason.find("fell back from its peak 200 to 140"),
            std::string::npos)
      << p.not_steady[0].reason;
}

TEST(LeakDetectorTest, NewGroupThatAppearsAndGrowsIsReported) {
  LeakDetector detector;
  DumpBuilder b(3);
  for (int i = 0; i <= 12; ++i) {
    b.Add(kRequest, 30);
    if (i >= 4) b.Add(kLeak, 10 * (i - 3));  // first seen at 4 s
    detector.Add(At(i * 0.5), b.Take());     // every 0.5 s
  }
  const ProcessLeaks p = detector.Analyze()[0];
  ASSERT_EQ(p.growing.size(), 1u);
  EXPECT_EQ(p.growing[0].created_by, "main.leakyHandler");
  EXPECT_EQ(p.growing[0].start_count, 0);
  EXPECT_EQ(p.growing[0].end_count, 90);
  // 0 for 2 s, then 20/s: the line through both parts is a bit steeper
  // than the overall mean (90/6 s = 15/s) and fits less well.
  EXPECT_GT(p.growing[0].rate_per_second, 15);
  EXPECT_LT(p.growing[0].rate_per_second, 20);
  EXPECT_GT(p.growing[0].r2, 0.8);
}

TEST(LeakDetectorTest, ProcessesAreJudgedApart) {
  LeakDetector detector;
  DumpBuilder leaking(10), steady(11);
  for (int i = 0; i <= 8; ++i) {
    detector.Add(At(i), leaking.Add(kLeak, 3 * i).Add(kRequest, 20).Take());
    // The same code path in another process, flat: not mixed with pid 10.
    detector.Add(At(i + 0.2), steady.Add(kLeak, 40 + i % 2).Take());
  }
  const std::vector<ProcessLeaks> result = detector.Analyze();
  ASSERT_EQ(result.size(), 2u);
  EXPECT_EQ(result[0].pid, 10);
  ASSERT_EQ(result[0].growing.size(), 1u);
  EXPECT_EQ(result[0].growing[0].pid, 10);
  EXPECT_NEAR(result[0].growing[0].rate_per_second, 3.0, 1e-9);
  EXPECT_EQ(result[0].growing[0].end_count, 24);
  EXPECT_EQ(result[1].pid, 11);
  EXPECT_TRUE(result[1].growing.empty());
  EXPECT_EQ(result[1].groups, 1);
}

TEST(LeakDetectorTest, TooFewSnapshotsSaySo) {
  LeakDetector detector;
  DumpBuilder b(5);
  for (int i = 0; i < 3; ++i) {
    detector.Add(At(i), b.Add(kLeak, 100 * i).Take());
  }
  const ProcessLeaks p = detector.Analyze()[0];
  EXPECT_EQ(p.snapshots, 3);
  EXPECT_EQ(p.note,
            "only 3 snapshots (6 needed to judge growth): nothing judged");
  EXPECT_TRUE(p.growing.empty());
  EXPECT_TRUE(p.not_steady.empty());
}

TEST(LeakDetectorTest, MinGrowthIsConfigurable) {
  LeakDetectorOptions options;
  options.criterion.min_growth = 50;
  LeakDetector detector(options);
  DumpBuilder b(5);
  for (int i = 0; i <= 10; ++i) detector.Add(At(i), b.Add(kLeak, 4 * i).Take());
  EXPECT_TRUE(detector.Analyze()[0].growing.empty());  // 40 < 50
  options.criterion.min_growth = 40;
  LeakDetector lower(options);
  for (int i = 0; i <= 10; ++i) lower.Add(At(i), b.Add(kLeak, 4 * i).Take());
  EXPECT_EQ(lower.Analyze()[0].growing.size(), 1u);
}

TEST(GroupKeyTest, CodePathIgnoresLinesAndLabels) {
  DumpBuilder b(1);
  gspy::v1::ProcessGoroutines d = b.Add(kLeak, 2).Add(kPool, 1).Take();
  gspy::v1::Goroutine& other_line = *d.mutable_goroutines(1);
  other_line.mutable_frames(3)->set_line(777);
  gspy::v1::Label* l = other_line.add_labels();
  l->set_key("handler");
  l->set_value("x");
  EXPECT_EQ(GroupKey(d.goroutines(0)), GroupKey(d.goroutines(1)));
  EXPECT_NE(GroupKey(d.goroutines(0)), GroupKey(d.goroutines(2)));
  // Same stack, another creator: another path.
  gspy::v1::Goroutine other_creator = d.goroutines(0);
  other_creator.mutable_created_by()->set_function("main.elsewhere");
  EXPECT_NE(GroupKey(d.goroutines(0)), GroupKey(other_creator));
  // Running: no stack, one group per creator.
  gspy::v1::Goroutine running = d.goroutines(0);
  running.clear_frames();
  running.set_running(true);
  EXPECT_NE(GroupKey(d.goroutines(0)), GroupKey(running));
}

TEST(SeriesGrowthTest, FitLineIsLeastSquares) {
  std::vector<CountPoint> line;
  for (int i = 0; i < 5; ++i) line.push_back({At(2 * i), 7 + 6 * i});
  LinearFit fit = FitLine(line);
  EXPECT_DOUBLE_EQ(fit.slope, 3.0);
  EXPECT_DOUBLE_EQ(fit.intercept, 7.0);
  EXPECT_DOUBLE_EQ(fit.r2, 1.0);
  // y = 0, 2, 1, 3 at x = 0..3: slope 0.8, R^2 = 0.64.
  fit = FitLine({{At(0), 0}, {At(1), 2}, {At(2), 1}, {At(3), 3}});
  EXPECT_NEAR(fit.slope, 0.8, 1e-12);
  EXPECT_NEAR(fit.r2, 0.64, 1e-12);
  // Constant: nothing to explain.
  fit = FitLine({{At(0), 5}, {At(1), 5}, {At(2), 5}});
  EXPECT_EQ(fit.slope, 0);
  EXPECT_EQ(fit.r2, 0);
}

TEST(SeriesGrowthTest, EachRuleRejects) {
  const GrowthCriterion c;
  auto series = [](std::vector<int64_t> counts) {
    std::vector<CountPoint> p;
    for (size_t i = 0; i < counts.size(); ++i) {
      p.push_back({At(static_cast<double>(i)), counts[i]});
    }
    return p;
  };
  EXPECT_TRUE(JudgeGrowth(series({0, 10, 20, 30, 40, 50}), c).growing);
  EXPECT_EQ(JudgeGrowth(series({0, 10, 20, 30, 40}), c).reason,
            "only 5 snapshots (6 needed)");
  EXPECT_EQ(JudgeGrowth(series({0, 1, 2, 4, 6, 9}), c).reason,
            "net growth 9 < 10");
  EXPECT_NE(JudgeGrowth(series({0, 60, 0, 60, 0, 60, 0, 60}), c)
                .reason.find("line slope"),
            std::string::npos);
  // Fits (R^2 0.84) but the last third dips to the first third's level.
  EXPECT_EQ(JudgeGrowth(series({0, 10, 40, 45, 50, 55, 40, 80, 90}), c).reason,
            "last third's minimum 40 <= first third's maximum 40");
  // Rose through the window, then fell back by more than a quarter.
  EXPECT_EQ(
      JudgeGrowth(series({0, 10, 20, 30, 40, 50, 60, 80, 100, 60}), c).reason,
      "fell back from its peak 100 to 60 at the end");
}

}  // namespace
}  // namespace gspy
