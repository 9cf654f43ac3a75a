// Goroutine leak detection over a series of goroutine dumps of the same
// processes (`gspy goroutines --watch`).
//
// A goroutine leak is a code path that starts goroutines which never end:
// each one parks for good at the same place, so their number grows for as
// long as the path runs. The detector therefore groups each process's
// goroutines by code path: the function of the go statement that created
// them (created_by) and the function names of their whole stack, leaf to
// root, without line numbers or pcs (a leaked goroutine parks at the same
// functions; lines would split a group when a goroutine is caught running a
// little further). Labels are not part of the key: per-request labels would
// split one path into groups of one. Running goroutines, whose stack is not
// read, form one group per creator.
//
// Each group's count per snapshot (0 in a snapshot of the process where it
// had none) is a time series, judged by JudgeGrowth (series_growth.h: enough
// snapshots, net growth >= min_growth, a rising least-squares line with
// R^2 >= min_r2, the last third all above the first third, still at its
// high at the end). Requests coming and going, worker pools and batches that
// fill and drain scatter around their line or fall back, and are not
// reported; their growth is reported apart, as "not steady", when it passes
// the net-growth floor, so a user sees what a naive last-minus-first check
// would have flagged and why it was not.
//
// Pure: no I/O, no clock; the caller passes each dump with the time it was
// taken.
#ifndef GSPY_GOLANG_GOROUTINES_LEAK_DETECTOR_H_
#define GSPY_GOLANG_GOROUTINES_LEAK_DETECTOR_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "golang/goroutines/series_growth.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

struct LeakDetectorOptions {
  GrowthCriterion criterion;
  int max_frames = 6;  // frames shown of each group's stack
  int max_goids = 5;   // goroutine ids sampled per group
};

struct ShownFrame {
  std::string function;
  std::string file;
  int64_t line = 0;
};

// One code path of one process and how its count moved.
struct GroupTrend {
  int32_t pid = 0;
  std::string created_by;  // function of the go statement; "" for main
  std::string created_at;  // file:line of the go statement
  // Leaf first, from the latest snapshot that had the group, without the
  // runtime's frames above the first user frame (as Go's debug=1 profile
  // prints) and runtime.goexit; at most max_frames. Empty when running.
  std::vector<ShownFrame> stack;
  bool running = false;     // the group is goroutines caught running
  int64_t start_count = 0;  // first snapshot of the process
  int64_t end_count = 0;    // last snapshot
  int64_t min_count = 0;
  int64_t max_count = 0;
  double rate_per_second = 0;  // least-squares slope
  double r2 = 0;
  // The wait reason (else status) most of them had in the latest snapshot
  // that had the group.
  std::string state;
  std::vector<int64_t> sample_goids;  // lowest (oldest) ids, latest snapshot
  std::string reason;                 // why not growing; "" for growing groups
};

struct ProcessLeaks {
  int32_t pid = 0;
  std::string go_version;
  int snapshots = 0;
  absl::Duration span;  // first to last snapshot
  int groups = 0;       // code paths seen
  // Set when the process could not be judged (too few snapshots).
  std::string note;
  std::vector<GroupTrend> growing;     // fastest first
  std::vector<GroupTrend> not_steady;  // grew >= min_growth, rejected
};

class LeakDetector {
 public:
  explicit LeakDetector(LeakDetectorOptions options = {});

  // One dump of one process, taken at `time`; times of a pid must increase.
  void Add(absl::Time time, const gspy::v1::ProcessGoroutines& process);

  // Every process added, by pid.
  std::vector<ProcessLeaks> Analyze() const;

 private:
  struct Group {
    std::string created_by;
    std::string created_at;
    std::vector<ShownFrame> stack;
    bool running = false;
    std::map<int, int64_t> counts;  // snapshot index -> count (absent: 0)
    std::string state;
    std::vector<int64_t> sample_goids;
  };
  struct Series {
    std::string go_version;
    std::vector<absl::Time> times;
    absl::flat_hash_map<std::string, Group> groups;  // by GroupKey
  };

  LeakDetectorOptions options_;
  std::map<int32_t, Series> processes_;
};

// The key of a goroutine's code path (see the file comment); exposed for
// tests.
std::string GroupKey(const gspy::v1::Goroutine& g);

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_LEAK_DETECTOR_H_
