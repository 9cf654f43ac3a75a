// What block, sched-latency and wall pulls share: a BlockSink that feeds one
// or more BlockProfiles (a wall-clock pull feeds its block and
// scheduling-latency halves from the same waits), and request helpers.
#ifndef GSPY_DAEMON_API_BLOCK_PROFILE_SINK_H_
#define GSPY_DAEMON_API_BLOCK_PROFILE_SINK_H_

#include <string>
#include <vector>

#include "daemon/aggregation/block_profile.h"
#include "daemon/api/request_checks.h"
#include "daemon/sources/block/block_tracker.h"
#include "daemon/sources/kernel/subscription.h"
#include "daemon/sources/sampled/sampled_tracker.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

class BlockProfileSink final : public BlockSink {
 public:
  // `every_wait`: the pull adds up each goroutine's time (wall) and keeps
  // the probes attached (no trap duty cycle) while it runs.
  explicit BlockProfileSink(std::vector<BlockProfile*> profiles,
                            bool every_wait = false)
      : profiles_(std::move(profiles)), every_wait_(every_wait) {}
  // Called from the tracker's poll thread.
  void AddWait(const gspy_block_event& wait,
               absl::Span<const uint64_t> stack) override {
    for (BlockProfile* p : profiles_) p->Add(wait, stack);
  }
  bool NeedsEveryWait() const override { return every_wait_; }

 private:
  const std::vector<BlockProfile*> profiles_;
  const bool every_wait_;
};

// The sampled counterpart: feeds each sweep of the SampledTracker to the
// profiles. Called from the tracker's thread.
class SampledProfileSink final : public SampledSink {
 public:
  explicit SampledProfileSink(std::vector<BlockProfile*> profiles)
      : profiles_(std::move(profiles)) {}
  void AddSweep(int pid, const GoroutineSweep& sweep,
                const SweepSpan& span) override {
    for (BlockProfile* p : profiles_) p->AddSweep(pid, sweep, span);
  }

 private:
  const std::vector<BlockProfile*> profiles_;
};

// How the profile was made, as its first comment (block_pull.cc): the
// uprobes, or the sweeps with their effective rate and budget and what
// count means then.
std::string ExactModeComment();
std::string SampledModeComment(const SampledSinkStats& stats,
                               const SampledTrackerOptions& options);

// The waits of one pull, from the block probes (exact) or from sweeps of the
// goroutines' states (sampled, when `sampled` is not null), into
// `profiles`. Attach and Detach are the pull's hooks; Finish, after Detach,
// says how the profiles were made (their mode comment and period) and
// warns about what was lost.
class PullWaits {
 public:
  PullWaits(BlockTracker* exact, SampledTracker* sampled,
            std::vector<BlockProfile*> profiles, bool every_wait);
  absl::Status Attach(const GoProcess& proc);
  void Detach();
  void Finish(std::vector<std::string>* warnings);
  bool sampled() const { return sampled_ != nullptr; }
  int64_t lost() const;
  // Mean time between sweeps; 0 when exact.
  int64_t interval_ns() const;

 private:
  BlockTracker* const exact_;
  SampledTracker* const sampled_;
  const std::vector<BlockProfile*> profiles_;
  BlockProfileSink exact_sink_;
  SampledProfileSink sampled_sink_;
  BlockSinkStats exact_stats_;
  SampledSinkStats sampled_stats_;
  int attached_ = 0;             // processes subscribed to
  Subscriptions subscriptions_;  // declared last: ends before the sinks
};

// Shared by the block and wall pulls (block_pull.cc): the options a request
// asks for, and the warnings about waits the shared maps lost and about the
// trap duty cycle.
BlockProfileOptions BlockOptionsFor(const gspy::v1::GetProfileRequest& request,
                                    const CheckedPull& pull, size_t max_stacks);
void WarnLostWaits(const BlockSinkStats& stats,
                   std::vector<std::string>* warnings);

}  // namespace gspy

#endif  // GSPY_DAEMON_API_BLOCK_PROFILE_SINK_H_
