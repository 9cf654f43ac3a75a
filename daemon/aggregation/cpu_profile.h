// CpuProfile: the samples of one pull, aggregated by (process, goroutine,
// labels, stack), and turned into a symbolized pprof at the end.
#ifndef GSPY_DAEMON_AGGREGATION_CPU_PROFILE_H_
#define GSPY_DAEMON_AGGREGATION_CPU_PROFILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bpf/gspy_types.h"
#include "daemon/aggregation/kernel_symbols.h"
#include "daemon/aggregation/period_timeline.h"
#include "golang/process/go_process.h"
#include "profile/filter/sample_filter.h"

namespace gspy {

struct CpuProfileOptions {
  // Label keys to keep; empty keeps all.
  std::vector<std::string> label_keys;
  bool goroutine_ids = false;
  bool kernel_stacks = false;
  // The period of samples that carry none (each sample normally carries
  // the one it was taken at), and of a profile without samples.
  int64_t period_ns = 10'101'010;  // 1e9 / 99 Hz
  // Distinct (process, goroutine, labels, stack) keys kept; samples beyond
  // are counted as dropped, so memory stays bounded.
  size_t max_stacks = 100'000;
  // Keeps only matching samples; null keeps all. `filter_text` for comments.
  std::shared_ptr<const SampleFilter> filter;
  std::string filter_text;
};

class CpuProfile {
 public:
  explicit CpuProfile(CpuProfileOptions options);

  // A process whose samples this profile takes. Before any of its samples.
  void AddProcess(GoProcess process);
  bool HasProcess(int pid) const;

  // Thread-safe; called from the sampler's thread.
  void Add(const gspy_cpu_sample& sample);

  int64_t sample_count() const;
  int64_t dropped_count() const;

  // The gzip-compressed pprof. `kernel` may be null when kernel stacks were
  // not asked for.
  std::string BuildPprof(absl::Time start, absl::Duration duration,
                         const KernelSymbols* kernel,
                         std::vector<std::string>* warnings) const;

 private:
  struct Key {
    int pid = 0;
    uint64_t goid = 0;
    std::vector<std::pair<std::string, std::string>> labels;
    std::vector<uint64_t> user;    // leaf first, runtime addresses
    std::vector<uint64_t> kernel;  // leaf first

    bool operator==(const Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.pid, k.goid, k.labels, k.user,
                        k.kernel);
    }
  };

  const CpuProfileOptions options_;
  absl::flat_hash_set<std::string> label_keys_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int, GoProcess> processes_ ABSL_GUARDED_BY(mu_);
  struct Weight {
    int64_t count = 0;
    int64_t cpu_ns = 0;  // the sum of the samples' own periods
  };
  absl::flat_hash_map<Key, Weight> counts_ ABSL_GUARDED_BY(mu_);
  int64_t samples_ ABSL_GUARDED_BY(mu_) = 0;
  // Over the samples kept: the sampling rate may change within a profile
  // when gspyd backs off.
  int64_t cpu_ns_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t min_period_ns_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t max_period_ns_ ABSL_GUARDED_BY(mu_) = 0;
  PeriodTimeline periods_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t labels_truncated_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_CPU_PROFILE_H_
