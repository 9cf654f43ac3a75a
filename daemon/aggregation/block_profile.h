// BlockProfile: the waits of one block or sched-latency pull, aggregated by
// (process, goroutine, wait reason, labels, stack), and turned into a
// symbolized pprof shaped like Go's own block profile. Two inputs: completed
// waits from the block probes (exact), or sweeps of the goroutines' states
// (sampled: each goroutine seen waiting, or runnable, is charged with the
// time between two sweeps).
#ifndef GSPY_DAEMON_AGGREGATION_BLOCK_PROFILE_H_
#define GSPY_DAEMON_AGGREGATION_BLOCK_PROFILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bpf/block_types.h"
#include "daemon/aggregation/sample_labels.h"
#include "daemon/sources/sampled/goroutine_sampler.h"
#include "daemon/sources/sampled/sampled_tracker.h"
#include "golang/process/go_process.h"
#include "golang/runtime/wait_reasons.h"
#include "profile/filter/sample_filter.h"

namespace gspy {

enum class BlockMetric {
  // Park to wake-up (runtime.ready), or to running again when the goroutine
  // was woken without ready: what Go's block profile measures. Sampled: the
  // time goroutines were seen waiting.
  kBlockDelay,
  // Wake-up (runtime.ready) to running: scheduling latency. Waits that ended
  // without ready do not count. Sampled: the time goroutines were seen
  // runnable, however they became so.
  kSchedDelay,
};

struct BlockProfileOptions {
  BlockMetric metric = BlockMetric::kBlockDelay;
  std::vector<std::string> label_keys;  // empty keeps all
  bool goroutine_ids = false;
  size_t max_stacks = 100'000;  // distinct keys kept; the rest are dropped
  // When nonzero (bpf_ktime_get_ns), a wait that began earlier counts only
  // from then: for wall-clock profiles, which cover one window exactly.
  uint64_t window_start_ns = 0;
  // Keeps only matching waits; null keeps all. `filter_text` for comments.
  std::shared_ptr<const SampleFilter> filter;
  std::string filter_text;
};

class BlockProfile {
 public:
  explicit BlockProfile(BlockProfileOptions options);

  // A process whose waits this profile takes; before any of its waits.
  void AddProcess(GoProcess process);
  bool HasProcess(int pid) const;

  // One completed wait and the user stack at its park (leaf first, runtime
  // addresses, caller recovered). Thread-safe.
  void Add(const gspy_block_event& wait, absl::Span<const uint64_t> stack);

  // One sweep of pid's goroutines (daemon/sources/sampled): each goroutine
  // in the profile's state (waiting, or runnable for kSchedDelay) adds the
  // span to its delay, and counts once per wait (or runnable spell) the
  // profile sees: the count is of distinct waits observed. Thread-safe.
  void AddSweep(int pid, const GoroutineSweep& sweep, const SweepSpan& span);

  // How the profile was made, as its first comment; with `period_ns` > 0
  // (sampled: the mean time between sweeps) also its period, of type
  // wall/nanoseconds.
  void SetMode(std::string comment, int64_t period_ns = 0);

  int64_t wait_count() const;  // waits recorded
  int64_t dropped_count() const;
  // Waits recorded / waits they stand for: below 1 when the probes were
  // duty-cycled (each wait carries its weight).
  double sampling_ratio() const;

  // The gzip-compressed pprof, with each wait scaled by its weight; the
  // profile says so in a comment when that changed anything.
  std::string BuildPprof(absl::Time start, absl::Duration duration,
                         std::vector<std::string>* warnings) const;

 private:
  struct Key {
    int pid = 0;
    uint64_t goid = 0;
    uint8_t reason = 0;
    LabelPairs labels;
    std::vector<uint64_t> stack;

    bool operator==(const Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.pid, k.goid, k.reason, k.labels,
                        k.stack);
    }
  };
  struct Value {
    double count = 0;  // weighted
    double delay_ns = 0;
  };
  // What AddSweep made of the wait it last met in a goroutine slot
  // (GoroutineCharge::slot): the same wait, seen again, adds to the same
  // Value without building and hashing its Key.
  struct SweptSlot {
    uint64_t wait_id = 0;  // 0: none (wait ids start at 1)
    uint64_t goid = 0;
    uint8_t reason = 0;
    Value* value = nullptr;  // null: the key was dropped (max_stacks)
  };
  struct Process {
    GoProcess process;
    absl::StatusOr<WaitReasons> reasons;
    // By slot; as long as the sampler's largest slot (its allgs, at most
    // max_goroutines) for the processes that are swept.
    std::vector<SweptSlot> swept;
  };

  const BlockProfileOptions options_;
  const absl::flat_hash_set<std::string> label_keys_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int, Process> processes_ ABSL_GUARDED_BY(mu_);
  // Node-based: Process::swept points into it.
  absl::node_hash_map<Key, Value> values_ ABSL_GUARDED_BY(mu_);
  int64_t waits_ ABSL_GUARDED_BY(mu_) = 0;
  double weighted_waits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t labels_truncated_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t no_stack_ ABSL_GUARDED_BY(mu_) = 0;
  // Sampled charges whose stack ends before runtime.goexit, and whose
  // labels could not be read.
  int64_t partial_stacks_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t labels_unreadable_ ABSL_GUARDED_BY(mu_) = 0;
  std::string mode_ ABSL_GUARDED_BY(mu_);
  int64_t period_ns_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_BLOCK_PROFILE_H_
