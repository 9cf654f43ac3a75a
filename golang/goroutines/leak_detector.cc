#include "golang/goroutines/leak_detector.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "golang/goroutines/dump_proto.h"

namespace gspy {
namespace {

bool IsRuntimeFrame(const std::string& function) {
  return absl::StartsWith(function, "runtime.") ||
         absl::StartsWith(function, "internal/runtime/");
}

// What a report shows of a stack: Go's debug=1 profile hides the runtime's
// frames above the first user frame (gopark, chanrecv, ...), which the wait
// reason already says, and goexit; a stack of runtime frames only (a system
// goroutine) is shown whole.
std::vector<ShownFrame> ShownStack(const gspy::v1::Goroutine& g,
                                   int max_frames) {
  std::vector<ShownFrame> all, user;
  for (const gspy::v1::StackFrame& f : g.frames()) {
    if (f.function() == "runtime.goexit") continue;
    ShownFrame s{f.function().empty() ? absl::StrCat("0x", absl::Hex(f.pc()))
                                      : f.function(),
                 f.file(), f.line()};
    if (!user.empty() || !IsRuntimeFrame(f.function())) user.push_back(s);
    all.push_back(std::move(s));
  }
  std::vector<ShownFrame>& shown = user.empty() ? all : user;
  if (static_cast<int>(shown.size()) > max_frames) shown.resize(max_frames);
  return std::move(shown);
}

// Goroutines of one group in one dump.
struct Tally {
  const gspy::v1::Goroutine* first = nullptr;
  int64_t count = 0;
  std::map<std::string, int64_t> states;
  std::vector<int64_t> goids;
};

std::string MostCommon(const std::map<std::string, int64_t>& counts) {
  std::string best;
  int64_t best_count = 0;
  for (const auto& [name, count] : counts) {
    if (count > best_count) best = name, best_count = count;
  }
  return best;
}

}  // namespace

std::string GroupKey(const gspy::v1::Goroutine& g) {
  std::string key = g.created_by().function();
  if (g.running()) {
    absl::StrAppend(&key, "|[running]");
    return key;
  }
  for (const gspy::v1::StackFrame& f : g.frames()) {
    if (f.function().empty()) {
      // Unsymbolized: the pc is stable within one process.
      absl::StrAppend(&key, "|0x", absl::Hex(f.pc()));
    } else {
      absl::StrAppend(&key, "|", f.function());
    }
  }
  return key;
}

LeakDetector::LeakDetector(LeakDetectorOptions options) : options_(options) {}

void LeakDetector::Add(absl::Time time,
                       const gspy::v1::ProcessGoroutines& process) {
  Series& series = processes_[process.pid()];
  if (!process.go_version().empty()) series.go_version = process.go_version();
  const int index = static_cast<int>(series.times.size());
  series.times.push_back(time);

  absl::flat_hash_map<std::string, Tally> tallies;
  for (const gspy::v1::Goroutine& g : process.goroutines()) {
    Tally& t = tallies[GroupKey(g)];
    if (t.first == nullptr) t.first = &g;
    ++t.count;
    ++t.states[g.wait_reason().empty()
                   ? std::string(GoroutineStatusText(g.status()))
                   : g.wait_reason()];
    t.goids.push_back(g.goid());
  }
  for (auto& [key, t] : tallies) {
    Group& group = series.groups[key];
    group.counts[index] = t.count;
    // Described by the latest snapshot that has it.
    const gspy::v1::Goroutine& g = *t.first;
    group.created_by = g.created_by().function();
    group.created_at =
        g.created_by().function().empty()
            ? ""
            : absl::StrCat(g.created_by().file(), ":", g.created_by().line());
    group.running = g.running();
    group.stack = ShownStack(g, options_.max_frames);
    group.state = MostCommon(t.states);
    const size_t keep =
        std::min(t.goids.size(), static_cast<size_t>(options_.max_goids));
    std::partial_sort(t.goids.begin(), t.goids.begin() + keep, t.goids.end());
    group.sample_goids.assign(t.goids.begin(), t.goids.begin() + keep);
  }
}

std::vector<ProcessLeaks> LeakDetector::Analyze() const {
  std::vector<ProcessLeaks> out;
  const GrowthCriterion& criterion = options_.criterion;
  for (const auto& [pid, series] : processes_) {
    ProcessLeaks& p = out.emplace_back();
    p.pid = pid;
    p.go_version = series.go_version;
    p.snapshots = static_cast<int>(series.times.size());
    p.span = series.times.empty() ? absl::ZeroDuration()
                                  : series.times.back() - series.times.front();
    p.groups = static_cast<int>(series.groups.size());
    if (p.snapshots < criterion.min_points) {
      p.note = absl::StrCat(
          "only ", p.snapshots, " snapshot", p.snapshots == 1 ? "" : "s", " (",
          criterion.min_points, " needed to judge growth): nothing judged");
      continue;
    }
    std::vector<CountPoint> points(series.times.size());
    for (const auto& [key, group] : series.groups) {
      for (size_t i = 0; i < points.size(); ++i) {
        auto it = group.counts.find(static_cast<int>(i));
        points[i] = {series.times[i],
                     it == group.counts.end() ? 0 : it->second};
      }
      const GrowthVerdict verdict = JudgeGrowth(points, criterion);
      const int64_t growth = points.back().count - points.front().count;
      if (!verdict.growing && growth < criterion.min_growth) continue;
      GroupTrend t;
      t.pid = pid;
      t.created_by = group.created_by;
      t.created_at = group.created_at;
      t.stack = group.stack;
      t.running = group.running;
      t.start_count = points.front().count;
      t.end_count = points.back().count;
      t.min_count = t.max_count = t.start_count;
      for (const CountPoint& c : points) {
        t.min_count = std::min(t.min_count, c.count);
        t.max_count = std::max(t.max_count, c.count);
      }
      t.rate_per_second = verdict.fit.slope;
      t.r2 = verdict.fit.r2;
      t.state = group.state;
      t.sample_goids = group.sample_goids;
      t.reason = verdict.reason;
      (verdict.growing ? p.growing : p.not_steady).push_back(std::move(t));
    }
    std::sort(p.growing.begin(), p.growing.end(),
              [](const GroupTrend& a, const GroupTrend& b) {
                return a.rate_per_second != b.rate_per_second
                           ? a.rate_per_second > b.rate_per_second
                           : a.created_by < b.created_by;
              });
    std::sort(p.not_steady.begin(), p.not_steady.end(),
              [](const GroupTrend& a, const GroupTrend& b) {
                const int64_t ga = a.end_count - a.start_count;
                const int64_t gb = b.end_count - b.start_count;
                return ga != gb ? ga > gb : a.created_by < b.created_by;
              });
  }
  return out;
}

}  // namespace gspy
