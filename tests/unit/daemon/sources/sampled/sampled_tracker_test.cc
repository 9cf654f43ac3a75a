// The tracker's schedule over a made-up process: sweeps every interval from
// its own thread, each sink's spans contiguous from its attach time, a last
// sweep at detach, the process dropped with its last sink.
#include "daemon/sources/sampled/sampled_tracker.h"

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/unit/testing/fake_go_memory.h"

namespace gspy {
namespace {

using testing::FakeGoBinary;
using testing::Image;

// Reads the image's memory (owned by the test).
class Borrowed : public MemorySource {
 public:
  explicit Borrowed(const MemorySource* m) : m_(m) {}
  absl::Status Read(uint64_t addr, absl::Span<char> out) const override {
    return m_->Read(addr, out);
  }
  std::string Describe() const override { return "borrowed"; }

 private:
  const MemorySource* m_;
};

class RecordingSink : public SampledSink {
 public:
  void AddSweep(int pid, const GoroutineSweep& sweep,
                const SweepSpan& span) override {
    absl::MutexLock lock(&mu);
    spans.push_back(span);
    charges += static_cast<int64_t>(sweep.charges.size());
    EXPECT_EQ(pid, 7);
  }
  std::vector<SweepSpan> Spans() {
    absl::MutexLock lock(&mu);
    return spans;
  }
  absl::Mutex mu;
  std::vector<SweepSpan> spans;
  int64_t charges = 0;
};

struct Fixture {
  Image im;
  GoProcess proc;
  Fixture() {
    im.AddG(0x10000, 1, kGWaiting, 0x7000000);
    im.AddG(0x11000, 2, kGWaiting, 0x7100000);
    im.SetAllgs({0x10000, 0x11000});
    proc.pid = 7;
    proc.binary = std::make_shared<FakeGoBinary>(testing::MakeBinary());
  }
  SampledTrackerOptions Options() {
    SampledTrackerOptions o;
    // A fixed 5 ms schedule: the budget's floor and ceiling, no jitter.
    o.budget.min_interval = o.budget.max_interval = absl::Milliseconds(5);
    o.jitter = 0;
    o.memory_for = [this](int) { return std::make_unique<Borrowed>(&im.mem); };
    return o;
  }
};

void CheckContiguous(const std::vector<SweepSpan>& spans) {
  ASSERT_FALSE(spans.empty());
  EXPECT_TRUE(spans[0].first);
  for (size_t i = 1; i < spans.size(); ++i) {
    EXPECT_FALSE(spans[i].first);
    EXPECT_EQ(spans[i].from_ns, spans[i - 1].to_ns) << i;
    EXPECT_GT(spans[i].to_ns, spans[i].from_ns) << i;
  }
}

TEST(SampledTracker, SweepsOnItsScheduleAndOnceMoreAtTheEnd) {
  Fixture f;
  SampledTracker tracker(f.Options());
  RecordingSink sink;
  absl::StatusOr<Subscription> subscription = tracker.Subscribe(f.proc, &sink);
  ASSERT_TRUE(subscription.ok());
  EXPECT_TRUE(tracker.Attached(7));
  absl::SleepFor(absl::Milliseconds(200));
  const size_t before_detach = sink.Spans().size();
  SampledSinkStats stats = tracker.EndStats(&sink);
  subscription->Cancel();
  EXPECT_FALSE(tracker.Attached(7));
  std::vector<SweepSpan> spans = sink.Spans();
  // 200 ms at 5 ms; a loaded test machine sweeps later, not more often.
  EXPECT_GE(before_detach, 10u);
  EXPECT_LE(before_detach, 41u);
  EXPECT_EQ(spans.size(), before_detach + 1);  // the last stretch
  CheckContiguous(spans);
  EXPECT_EQ(stats.sweeps, static_cast<int64_t>(spans.size()));
  EXPECT_EQ(stats.covered_ns, spans.back().to_ns - spans.front().from_ns);
  EXPECT_GE(stats.mean_interval(), absl::Milliseconds(4));
  EXPECT_GT(stats.cpu_ns, 0);
  EXPECT_EQ(sink.charges, 2 * static_cast<int64_t>(spans.size()));
  // Nothing arrives once the subscription ended.
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(sink.Spans().size(), spans.size());
}

TEST(SampledTracker, ALaterSinkSharesTheProcessFromItsAttachTime) {
  Fixture f;
  SampledTracker tracker(f.Options());
  RecordingSink a, b;
  absl::StatusOr<Subscription> sub_a = tracker.Subscribe(f.proc, &a);
  ASSERT_TRUE(sub_a.ok());
  absl::SleepFor(absl::Milliseconds(50));
  absl::StatusOr<Subscription> sub_b = tracker.Subscribe(f.proc, &b);
  ASSERT_TRUE(sub_b.ok());
  absl::SleepFor(absl::Milliseconds(50));
  SampledSinkStats sa = tracker.EndStats(&a);
  sub_a->Cancel();
  EXPECT_TRUE(tracker.Attached(7));  // b still wants it
  absl::SleepFor(absl::Milliseconds(30));
  SampledSinkStats sb = tracker.EndStats(&b);
  sub_b->Cancel();
  EXPECT_FALSE(tracker.Attached(7));
  CheckContiguous(a.Spans());
  CheckContiguous(b.Spans());
  // b's first span starts when b attached, inside a sweep interval of a's.
  const SweepSpan first_b = b.Spans().front();
  bool inside = false;
  for (const SweepSpan& s : a.Spans()) {
    inside =
        inside || (s.to_ns == first_b.to_ns && s.from_ns < first_b.from_ns);
  }
  EXPECT_TRUE(inside);
  EXPECT_GT(sa.covered_ns, 0);
  EXPECT_GT(sb.covered_ns, 0);
  EXPECT_LT(sb.covered_ns, absl::ToInt64Nanoseconds(absl::Milliseconds(200)));
}

TEST(SampledTracker, AProcessWhoseGoroutinesCannotBeReadIsRefused) {
  Fixture f;
  SampledTrackerOptions o = f.Options();
  Image empty;  // no allgs in its memory
  o.memory_for = [&](int) { return std::make_unique<Borrowed>(&empty.mem); };
  SampledTracker tracker(o);
  RecordingSink sink;
  EXPECT_EQ(tracker.Subscribe(f.proc, &sink).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(tracker.Attached(7));
}

}  // namespace
}  // namespace gspy
