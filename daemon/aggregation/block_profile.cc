#include "daemon/aggregation/block_profile.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/aggregation/key_filter.h"
#include "daemon/aggregation/stack_locations.h"
#include "golang/binary/go_version.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {

BlockProfile::BlockProfile(BlockProfileOptions options)
    : options_(std::move(options)),
      label_keys_(options_.label_keys.begin(), options_.label_keys.end()) {}

void BlockProfile::AddProcess(GoProcess process) {
  const int minor =
      GoMinorVersion(process.binary->build_info().go_version).value_or(0);
  absl::MutexLock lock(&mu_);
  const int pid = process.pid;
  processes_.insert_or_assign(
      pid, Process{std::move(process), WaitReasons::ForGoMinor(minor)});
}

bool BlockProfile::HasProcess(int pid) const {
  absl::MutexLock lock(&mu_);
  return processes_.contains(pid);
}

void BlockProfile::Add(const gspy_block_event& wait,
                       absl::Span<const uint64_t> stack) {
  uint64_t begin = 0, end = 0;
  if (options_.metric == BlockMetric::kSchedDelay) {
    if (wait.ready_ns == 0) return;
    begin = wait.ready_ns;
    end = wait.run_ns;
  } else {
    begin = wait.park_ns;
    end = wait.ready_ns != 0 ? wait.ready_ns : wait.run_ns;
  }
  begin = std::max(begin, options_.window_start_ns);
  if (end < begin) return;
  const int64_t delay = static_cast<int64_t>(end - begin);
  Key key;
  key.pid = static_cast<int>(wait.tgid);
  if (options_.goroutine_ids) key.goid = wait.goid;
  key.reason = wait.reason;
  // A filter may look at labels the output leaves out: keep them all until
  // the profile is built.
  static const absl::flat_hash_set<std::string> kAll;
  key.labels = DecodeLabels(wait.labels, wait.label_count,
                            options_.filter ? kAll : label_keys_);
  key.stack.assign(stack.begin(), stack.end());

  const double weight =
      wait.weight_milli > 0 ? wait.weight_milli / 1000.0 : 1.0;
  absl::MutexLock lock(&mu_);
  if (!processes_.contains(key.pid)) return;  // a pid another pull asked for
  ++waits_;
  weighted_waits_ += weight;
  if (wait.flags & GSPY_SAMPLE_LABELS_TRUNCATED) ++labels_truncated_;
  if (wait.stack_id < 0) ++no_stack_;
  auto it = values_.find(key);
  if (it == values_.end()) {
    if (values_.size() >= options_.max_stacks) {
      ++dropped_;
      return;
    }
    it = values_.emplace(std::move(key), Value{}).first;
  }
  it->second.count += weight;
  it->second.delay_ns += delay * weight;
}

void BlockProfile::AddSweep(int pid, const GoroutineSweep& sweep,
                            const SweepSpan& span) {
  const SampledState want = options_.metric == BlockMetric::kSchedDelay
                                ? SampledState::kRunnable
                                : SampledState::kWaiting;
  const int64_t from =
      std::max(span.from_ns, static_cast<int64_t>(options_.window_start_ns));
  if (span.to_ns <= from) return;
  const double delay = static_cast<double>(span.to_ns - from);
  static const absl::flat_hash_set<std::string> kAll;
  Key key;
  key.pid = pid;
  absl::MutexLock lock(&mu_);
  auto proc = processes_.find(pid);
  if (proc == processes_.end()) return;
  std::vector<SweptSlot>& swept = proc->second.swept;
  for (const GoroutineCharge& c : sweep.charges) {
    if (c.state != want) continue;
    const uint64_t goid = options_.goroutine_ids ? c.goid : 0;
    const uint8_t reason = c.wait_reason;
    // A wait already under way when this profile's first sweep came is new
    // to the profile.
    const double count = c.new_episode || span.first ? 1 : 0;
    waits_ += static_cast<int64_t>(count);
    weighted_waits_ += count;
    if (count > 0 && !c.wait->stack_complete) ++partial_stacks_;
    if (count > 0 && c.wait->labels_error) ++labels_unreadable_;
    if (c.slot >= swept.size()) swept.resize(size_t{c.slot} + 1);
    SweptSlot& memo = swept[c.slot];
    if (memo.wait_id == 0 || memo.wait_id != c.wait_id ||
        memo.reason != reason || memo.goid != goid) {
      key.goid = goid;
      key.reason = reason;
      // As in Add: the filter may look at labels the output leaves out.
      key.labels =
          KeepOnly(c.wait->labels, options_.filter ? kAll : label_keys_);
      key.stack = c.wait->stack;
      auto it = values_.find(key);
      if (it == values_.end() && values_.size() < options_.max_stacks) {
        it = values_.emplace(key, Value{}).first;
      }
      memo = SweptSlot{.wait_id = c.wait_id,
                       .goid = goid,
                       .reason = reason,
                       .value = it != values_.end() ? &it->second : nullptr};
    }
    Value* v = memo.value;
    if (v == nullptr) {
      dropped_ += static_cast<int64_t>(count);
      continue;
    }
    v->count += count;
    v->delay_ns += delay;
  }
}

void BlockProfile::SetMode(std::string comment, int64_t period_ns) {
  absl::MutexLock lock(&mu_);
  mode_ = std::move(comment);
  period_ns_ = period_ns;
}

int64_t BlockProfile::wait_count() const {
  absl::MutexLock lock(&mu_);
  return waits_;
}

double BlockProfile::sampling_ratio() const {
  absl::MutexLock lock(&mu_);
  return weighted_waits_ > 0 ? waits_ / weighted_waits_ : 1;
}

int64_t BlockProfile::dropped_count() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

std::string BlockProfile::BuildPprof(absl::Time start, absl::Duration duration,
                                     std::vector<std::string>* warnings) const {
  absl::MutexLock lock(&mu_);
  const bool sched = options_.metric == BlockMetric::kSchedDelay;
  const std::string count_type = sched ? "wakeups" : "contentions";
  ProfileBuilder builder({{count_type, "count"}, {"delay", "nanoseconds"}},
                         period_ns_ > 0 ? ValueType{"wall", "nanoseconds"}
                                        : ValueType{count_type, "count"},
                         period_ns_ > 0 ? period_ns_ : 1);
  builder.SetTime(start, duration);
  builder.SetDefaultSampleType("delay");
  if (!mode_.empty()) builder.AddComment(mode_);
  auto warn = [&](std::string w) {
    builder.AddComment(w);
    if (warnings) warnings->push_back(std::move(w));
  };
  if (waits_ > 0 && weighted_waits_ > waits_ + 0.5) {
    warn(absl::StrFormat(
        "the probes were duty-cycled to stay within the daemon's budgets: "
        "%d waits were recorded and stand for %.0f (%.1f%%); each is scaled "
        "by the inverse of its chance to be recorded",
        waits_, weighted_waits_, 100.0 * waits_ / weighted_waits_));
  }
  if (dropped_ > 0) {
    warn(absl::StrCat(dropped_, " of ", waits_, " waits dropped: more than ",
                      options_.max_stacks, " distinct stacks"));
  }
  if (no_stack_ > 0) {
    warn(absl::StrCat(no_stack_,
                      " waits have only their innermost frames: "
                      "the stack map was full or a hash slot was taken"));
  }
  if (partial_stacks_ > 0) {
    warn(absl::StrCat(partial_stacks_,
                      " waits have stacks that end before runtime.goexit "
                      "(unreadable or past the frame limit)"));
  }
  if (labels_unreadable_ > 0) {
    warn(absl::StrCat(labels_unreadable_,
                      " waits' labels could not be read and are left out"));
  }
  if (labels_truncated_ > 0) {
    warn(absl::StrCat(
        labels_truncated_, " waits had labels truncated (at most ",
        GSPY_MAX_LABELS, " labels, keys of ", GSPY_LABEL_KEY_LEN,
        " bytes, values of ", GSPY_LABEL_VALUE_LEN, " bytes are read)"));
  }
  for (const auto& [pid, p] : processes_) {
    if (!p.reasons.ok()) {
      warn(absl::StrCat("pid ", pid, ": ", p.reasons.status().message(),
                        "; wait reasons are shown by number"));
    }
  }

  StackLocations stacks(&builder);
  KeyFilter filter(options_.filter.get(), "waiting");
  const bool several_processes = processes_.size() > 1;
  std::vector<uint64_t> locations;
  std::vector<SampleLabel> labels;
  for (const auto& [key, value] : values_) {
    const Process& p = processes_.at(key.pid);
    const std::string reason =
        p.reasons.ok() ? p.reasons->Name(key.reason)
                       : absl::StrCat("waitReason(", key.reason, ")");
    if (!filter.Keep(p.process, key.labels, reason, key.stack, value.count)) {
      continue;
    }
    locations.clear();
    stacks.AppendUser(p.process, key.stack, &locations);
    if (locations.empty()) {
      locations.push_back(builder.SyntheticLocationId("[unknown]"));
    }
    labels.clear();
    // waitReasonZero (0) names no reason: a runnable goroutine that no
    // sweep saw waiting (preempted, new, or woken between two sweeps).
    if (key.reason != 0) {
      labels.push_back({.key = "wait_reason", .str = reason});
    }
    AppendSampleLabels(KeepOnly(key.labels, label_keys_),
                       options_.goroutine_ids ? key.goid : 0, p.process,
                       several_processes, &labels);
    const int64_t values[] = {
        static_cast<int64_t>(std::llround(value.count)),
        static_cast<int64_t>(std::llround(value.delay_ns))};
    builder.AddSample(locations, values, labels);
  }
  filter.Report(options_.filter_text, "waits", &builder, warnings);
  return builder.SerializeGzip();
}

}  // namespace gspy
