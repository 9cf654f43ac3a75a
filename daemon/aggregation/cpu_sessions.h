// SessionRegistry: the CPU profiles being taken right now, and which pids
// each one wants. It routes every sample from the sampler to the profiles
// that want its pid, and holds the sampler's per-pid references for them.
#ifndef GSPY_DAEMON_AGGREGATION_CPU_SESSIONS_H_
#define GSPY_DAEMON_AGGREGATION_CPU_SESSIONS_H_

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "bpf/gspy_types.h"
#include "daemon/aggregation/cpu_profile.h"
#include "daemon/sources/cpu/cpu_sampler.h"
#include "daemon/sources/kernel/subscription.h"

namespace gspy {

class SessionRegistry {
 public:
  // The sampler is set once it has started (it needs the registry's Route
  // as its sink).
  void set_sampler(CpuSampler* sampler) { sampler_ = sampler; }

  // Routes samples of `process` to `profile` until the subscription ends
  // (then the samples still in the ring buffer are delivered first).
  absl::StatusOr<Subscription> Subscribe(const GoProcess& process,
                                         std::shared_ptr<CpuProfile> profile,
                                         bool kernel_stacks);
  // Routes from now on what went to `old` to `fresh` instead, keeping the
  // subscriptions and the sampler's references: how continuous mode cuts a
  // profile per interval without a sample missed or counted twice. A sample
  // being routed right now may still reach `old`: once the caller holds its
  // only reference, none will. False when `old` was not subscribed.
  bool Replace(const CpuProfile* old, std::shared_ptr<CpuProfile> fresh);

  // The sampler's sink.
  void Route(const gspy_cpu_sample& sample);

  // The sampler's counters (samples sent, lost, unreadable).
  SamplerCounters counters() const { return sampler_->ReadCounters(); }

 private:
  struct Routing {
    uint64_t id;  // the subscription's
    std::shared_ptr<CpuProfile> profile;
    bool kernel_stacks = false;
  };
  void Unsubscribe(int pid, uint64_t id);

  CpuSampler* sampler_ = nullptr;
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<int, std::vector<Routing>> by_pid_ ABSL_GUARDED_BY(mu_);
};

// The BPF configuration for a process, from its binary's runtime layout.
gspy_target_config TargetConfigFor(const RuntimeLayout& layout,
                                   bool kernel_stacks);

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_CPU_SESSIONS_H_
