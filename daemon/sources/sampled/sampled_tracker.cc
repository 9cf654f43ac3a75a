#include "daemon/sources/sampled/sampled_tracker.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // Go's nanotime, bpf_ktime_get_ns
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

SampledTracker::SampledTracker(SampledTrackerOptions options)
    : options_([&] {
        if (options.budget.max_interval < options.budget.min_interval) {
          options.budget.max_interval = options.budget.min_interval;
        }
        options.jitter = std::clamp(options.jitter, 0.0, 0.9);
        return options;
      }()),
      thread_([this] { Run(); }) {}

SampledTracker::~SampledTracker() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

absl::StatusOr<Subscription> SampledTracker::Subscribe(const GoProcess& proc,
                                                       SampledSink* sink) {
  absl::MutexLock lock(&mu_);
  auto it = processes_.find(proc.pid);
  if (it == processes_.end()) {
    auto p = std::make_unique<Process>(
        Process{.proc = proc,
                .memory = options_.memory_for
                              ? options_.memory_for(proc.pid)
                              : std::make_unique<ProcessMemory>(proc.pid),
                .sampler = nullptr,
                .budget = SweepBudget(options_.budget),
                .next = absl::Now(),
                .sinks = {}});
    absl::StatusOr<std::unique_ptr<GoroutineSampler>> sampler =
        GoroutineSampler::Create(*proc.binary, *p->memory, proc.load_bias,
                                 options_.sampler);
    if (!sampler.ok()) return sampler.status();
    p->sampler = *std::move(sampler);
    // The baseline: the goroutines and their stacks as the window opens.
    if (!SweepLocked(*p, /*baseline=*/true)) {
      return absl::NotFoundError(absl::StrCat("pid ", proc.pid, " is gone"));
    }
    p->next = absl::Now() + NextIntervalLocked(*p);
    it = processes_.emplace(proc.pid, std::move(p)).first;
  }
  Process& p = *it->second;
  const int pid = proc.pid;
  Subscription subscription([this, sink, pid] { Unsubscribe(sink, pid); });
  for (const Process::Sink& s : p.sinks) {
    if (s.sink == sink) return subscription;
  }
  p.sinks.push_back({sink, MonotonicNs()});
  sink_stats_.try_emplace(sink);
  return subscription;
}

void SampledTracker::Unsubscribe(SampledSink* sink, int pid) {
  absl::MutexLock lock(&mu_);
  auto it = processes_.find(pid);
  if (it == processes_.end()) return;
  Process& p = *it->second;
  p.sinks.erase(
      std::remove_if(p.sinks.begin(), p.sinks.end(),
                     [&](const Process::Sink& x) { return x.sink == sink; }),
      p.sinks.end());
  if (p.sinks.empty()) processes_.erase(it);
}

SampledSinkStats SampledTracker::EndStats(SampledSink* sink) {
  absl::MutexLock lock(&mu_);
  for (auto it = processes_.begin(); it != processes_.end();) {
    Process& p = *it->second;
    const bool subscribed =
        std::any_of(p.sinks.begin(), p.sinks.end(),
                    [&](const Process::Sink& x) { return x.sink == sink; });
    if (!subscribed) {
      ++it;
      continue;
    }
    // The last stretch of the window, up to now, for every sink of p.
    if (!SweepLocked(p)) {
      processes_.erase(it++);
    } else {
      p.next = absl::Now() + NextIntervalLocked(p);
      ++it;
    }
  }
  SampledSinkStats stats;
  if (auto st = sink_stats_.find(sink); st != sink_stats_.end()) {
    stats = st->second;
    sink_stats_.erase(st);
  }
  return stats;
}

bool SampledTracker::Attached(int pid) const {
  absl::MutexLock lock(&mu_);
  return processes_.contains(pid);
}

absl::Duration SampledTracker::NextIntervalLocked(const Process& p) {
  std::uniform_real_distribution<double> jitter(1 - options_.jitter,
                                                1 + options_.jitter);
  return p.budget.interval(budget_scale_.load()) * jitter(rng_);
}

bool SampledTracker::SweepLocked(Process& p, bool baseline) {
  const int64_t cpu_before = ThreadCpuNs();
  absl::StatusOr<GoroutineSweep> sweep = p.sampler->Sweep(MonotonicNs());
  if (!sweep.ok()) return false;
  for (Process::Sink& s : p.sinks) {
    SweepSpan span{std::max(sweep->from_ns, s.attached_ns), sweep->to_ns,
                   !s.swept};
    if (span.to_ns <= span.from_ns) continue;
    s.swept = true;
    s.sink->AddSweep(p.proc.pid, *sweep, span);
    SampledSinkStats& st = sink_stats_[s.sink];
    ++st.sweeps;
    st.covered_ns += span.to_ns - span.from_ns;
    st.torn_dropped += sweep->counts.torn_dropped;
    st.unreadable += sweep->counts.unreadable;
    st.labels_over_budget += sweep->counts.labels_over_budget;
  }
  // The sinks' aggregation is gspyd's work for this sweep too.
  const int64_t cpu = ThreadCpuNs() - cpu_before;
  if (!baseline) p.budget.Record(absl::Nanoseconds(cpu));
  for (const Process::Sink& s : p.sinks) sink_stats_[s.sink].cpu_ns += cpu;
  return true;
}

void SampledTracker::Run() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    absl::Time next = absl::InfiniteFuture();
    for (const auto& [pid, p] : processes_) next = std::min(next, p->next);
    // Wakes at the next due sweep, or when a process or stop arrives.
    const size_t count = processes_.size();
    auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_ || processes_.size() != count;
    };
    if (next > absl::Now()) {
      mu_.AwaitWithDeadline(absl::Condition(&changed), next);
      continue;
    }
    for (auto it = processes_.begin(); it != processes_.end();) {
      Process& p = *it->second;
      if (p.next > absl::Now()) {
        ++it;
        continue;
      }
      if (!SweepLocked(p)) {
        processes_.erase(it++);  // gone; its pulls notice on their own
        continue;
      }
      p.next = absl::Now() + NextIntervalLocked(p);
      ++it;
    }
  }
}

}  // namespace gspy
