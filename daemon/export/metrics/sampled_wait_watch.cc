#include "daemon/export/metrics/sampled_wait_watch.h"

#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "base/log.h"
#include "golang/binary/go_version.h"

namespace gspy {

SampledWaitWatch::SampledWaitWatch(SampledWaitWatchOptions options,
                                   const ProcessTable* processes,
                                   SampledTracker* tracker,
                                   SampledWaitTotals* totals)
    : options_(options),
      processes_(processes),
      tracker_(tracker),
      totals_(totals) {}

SampledWaitWatch::~SampledWaitWatch() { Stop(); }

void SampledWaitWatch::Start() {
  thread_ = std::thread([this] { Run(); });
}

void SampledWaitWatch::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
  absl::MutexLock lock(&mu_);
  for (auto& [pid, w] : watched_) {
    w.subscription.Cancel();
    if (w.sink != nullptr) totals_->RemoveProcess(pid);
  }
  watched_.clear();
}

void SampledWaitWatch::Run() {
  do {
    Rescan();
  } while (!stop_.WaitForNotificationWithTimeout(options_.rescan));
}

void SampledWaitWatch::Rescan() {
  const std::vector<GoProcess> listed = processes_->ListGoProcesses();
  absl::flat_hash_map<int, uint64_t> alive;  // pid -> start ticks
  for (const GoProcess& p : listed) {
    absl::StatusOr<uint64_t> ticks = ProcessStartTicks(p.pid);
    if (ticks.ok()) alive[p.pid] = *ticks;
  }
  mu_.Lock();
  // Gone, or a pid now of another process: no more sweeps, and its series
  // go keep_exited later (a new process of the pid restarts them at once).
  const absl::Time now = absl::Now();
  for (auto it = watched_.begin(); it != watched_.end();) {
    Watched& w = it->second;
    auto a = alive.find(it->first);
    const bool same = a != alive.end() && a->second == w.start_ticks;
    if (same) {
      ++it;
      continue;
    }
    w.subscription.Cancel();
    if (w.gone == absl::InfiniteFuture()) w.gone = now;
    if (a == alive.end() && w.sink != nullptr &&
        now - w.gone < options_.keep_exited) {
      ++it;
      continue;
    }
    if (w.sink != nullptr && a == alive.end()) {
      totals_->RemoveProcess(it->first);
    }
    watched_.erase(it++);
  }
  // The new processes, chosen under the lock; opened after it, so that a
  // scrape (Collect) never waits for a binary to be parsed.
  std::vector<std::pair<int, uint64_t>> fresh;
  size_t skipped = 0;
  for (const auto& [pid, ticks] : alive) {
    if (watched_.contains(pid)) continue;
    if (watched_.size() + fresh.size() >= options_.max_processes) {
      ++skipped;
      continue;
    }
    fresh.emplace_back(pid, ticks);
  }
  skipped_ = skipped;
  mu_.Unlock();
  std::vector<std::pair<int, Watched>> opened;
  uint64_t unavailable = 0;
  for (const auto& [pid, ticks] : fresh) {
    Watched& w = opened.emplace_back(pid, Watched{}).second;
    w.start_ticks = ticks;
    // The listing has no mappings; the sweeps need the load bias.
    absl::StatusOr<GoProcess> proc = processes_->Inspect(pid);
    if (!proc.ok() || proc->binary == nullptr) continue;  // not retried
    auto sink = std::make_unique<Sink>(totals_, &labels_over_budget_);
    totals_->AddProcess(
        pid, GoMinorVersion(proc->binary->build_info().go_version).value_or(0));
    absl::StatusOr<Subscription> s = tracker_->Subscribe(*proc, sink.get());
    if (!s.ok()) {
      // An unknown layout, no allgs yet: not retried until the pid is
      // reused, so the rescans cost nothing for it.
      GSPY_LOG(DEBUG) << "metrics: no sampled waits of pid " << pid << ": "
                      << s.status().message();
      totals_->RemoveProcess(pid);
      ++unavailable;
      continue;
    }
    w.sink = std::move(sink);
    w.subscription = *std::move(s);
  }
  mu_.Lock();
  unavailable_ += unavailable;
  for (auto& [pid, w] : opened) watched_.emplace(pid, std::move(w));
  mu_.Unlock();
}

void SampledWaitWatch::Collect(MetricFamilies* out) const {
  absl::MutexLock lock(&mu_);
  size_t watching = 0;
  for (const auto& [pid, w] : watched_) {
    watching += w.sink != nullptr && w.gone == absl::InfiniteFuture();
  }
  out->push_back(SingleSample(
      "gspy_sampled_wait_watch_processes", MetricType::kGauge,
      "Go processes whose goroutine states gspyd sweeps for the sampled "
      "gspy_go_block_sampled_* metrics (--metrics-sampled-waits).",
      static_cast<double>(watching)));
  out->push_back(SingleSample(
      "gspy_sampled_wait_watch_skipped", MetricType::kGauge,
      "Go processes not swept for the sampled wait metrics at the last "
      "rescan: beyond --metrics-sampled-waits-max-processes.",
      static_cast<double>(skipped_)));
  out->push_back(SingleSample(
      "gspy_sampled_wait_watch_unavailable_total", MetricType::kCounter,
      "Go processes whose goroutines could not be swept (unknown layout, "
      "no goroutine list found); see gspyd's debug log.",
      static_cast<double>(unavailable_)));
  out->push_back(SingleSample(
      "gspy_sampled_wait_watch_labels_over_budget_total", MetricType::kCounter,
      "New waits swept without their pprof labels: the process's cached "
      "waits already held the sampler's per-process label budget.",
      static_cast<double>(
          labels_over_budget_.load(std::memory_order_relaxed))));
}

}  // namespace gspy
