#include "daemon/export/metrics/gc_watcher.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/log.h"

namespace gspy {

GcMetricsWatcher::GcMetricsWatcher(GcMetricsOptions options,
                                   const ProcessTable* processes,
                                   GcTracker* tracker)
    : options_(options), processes_(processes), tracker_(tracker) {}

GcMetricsWatcher::~GcMetricsWatcher() { Stop(); }

void GcMetricsWatcher::Start() {
  // The first scan attaches probes to every Go binary, which takes a while:
  // on the thread too, so that gspyd starts serving at once.
  thread_ = std::thread([this] {
    do {
      Rescan();
    } while (!stop_.WaitForNotificationWithTimeout(options_.rescan));
  });
}

void GcMetricsWatcher::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  absl::flat_hash_map<int, Watched> watched;
  {
    absl::MutexLock lock(&mu_);
    watched.swap(watched_);
  }
  watched.clear();  // ends the subscriptions, outside mu_
}

void GcMetricsWatcher::DrainLocked() {
  tracker_->Flush();
  std::vector<GcPauseRecord> records;
  for (auto& [pid, w] : watched_) {
    records.clear();
    w.watch->Take(&records);
    for (const GcPauseRecord& r : records) {
      w.stats.AddPause(r.pause.gc, r.reason, r.duration_nanos() * 1e-9);
    }
    w.stats.set_cycles(w.watch->cycles_completed());
  }
}

void GcMetricsWatcher::Rescan() {
  std::vector<ProcessProblem> problems;
  const std::vector<GoProcess> found = processes_->ListGoProcesses(&problems);
  absl::flat_hash_map<int, const GoProcess*> by_pid;
  for (const GoProcess& p : found) by_pid[p.pid] = &p;

  // Watches of processes that are gone (or whose pid now runs another
  // binary) end here; their series go with them. Attaching and detaching
  // uprobes is slow, so it is done without holding mu_, which scrapes take.
  std::vector<Subscription> ended;
  std::vector<const GoProcess*> fresh;
  {
    absl::MutexLock lock(&mu_);
    ++rescans_;
    go_processes_ = found.size();
    unsupported_ = problems.size();
    DrainLocked();
    for (auto it = watched_.begin(); it != watched_.end();) {
      auto f = by_pid.find(it->first);
      if (f == by_pid.end() || f->second->exe_inode != it->second.exe_inode) {
        ended.push_back(std::move(it->second.subscription));
        watched_.erase(it++);
      } else {
        ++it;
      }
    }
    for (auto it = failed_.begin(); it != failed_.end();) {
      auto f = by_pid.find(it->first);
      if (f == by_pid.end() || f->second->exe_inode != it->second) {
        failed_.erase(it++);
      } else {
        ++it;
      }
    }
    if (options_.watch_gc) {
      for (const GoProcess& p : found) {
        if (!watched_.contains(p.pid) && !failed_.contains(p.pid)) {
          fresh.push_back(&p);
        }
      }
    }
  }
  ended.clear();

  size_t watched_count = 0;
  {
    absl::MutexLock lock(&mu_);
    watched_count = watched_.size();
  }
  size_t over_limit = 0;
  for (const GoProcess* p : fresh) {
    if (watched_count >= options_.max_processes) {
      ++over_limit;
      continue;
    }
    // Watch wants the mappings and load bias, which the listing leaves out.
    absl::StatusOr<GoProcess> proc = processes_->Inspect(p->pid);
    auto watch = std::make_shared<GcWatch>(p->pid);
    absl::StatusOr<Subscription> subscription =
        proc.ok() ? tracker_->Subscribe(*proc, watch)
                  : absl::StatusOr<Subscription>(proc.status());
    absl::MutexLock lock(&mu_);
    if (!subscription.ok()) {
      if (absl::IsNotFound(subscription.status()))
        continue;  // exited meanwhile
      ++watch_errors_;
      failed_[p->pid] = p->exe_inode;
      GSPY_LOG(WARNING) << "metrics: no GC watch of pid " << p->pid << " ("
                        << p->exe_path
                        << "): " << subscription.status().message();
      continue;
    }
    GSPY_LOG(DEBUG) << "metrics: watching the GC of pid " << p->pid << " ("
                    << p->exe_path << ")";
    watched_.try_emplace(
        p->pid, Watched{std::move(watch), *std::move(subscription),
                        p->exe_inode, GcProcessStats(GcProcessLabels(*proc))});
    ++watched_count;
  }
  absl::MutexLock lock(&mu_);
  over_limit_ = over_limit;
}

void GcMetricsWatcher::Collect(MetricFamilies* out) {
  absl::MutexLock lock(&mu_);
  DrainLocked();
  GcFamilies gc;
  for (const auto& [pid, w] : watched_) w.stats.AppendTo(&gc);
  gc.MoveTo(out);

  MetricFamily go("gspy_go_processes", MetricType::kGauge,
                  "Go processes gspyd can profile, at the last rescan.");
  go.Add({}, static_cast<double>(go_processes_));
  out->push_back(std::move(go));
  MetricFamily unsupported(
      "gspy_go_processes_unsupported", MetricType::kGauge,
      "Go processes gspyd cannot profile (e.g. an unknown Go version without "
      "DWARF), at the last rescan.");
  unsupported.Add({}, static_cast<double>(unsupported_));
  out->push_back(std::move(unsupported));
  MetricFamily watched("gspy_gc_watched_processes", MetricType::kGauge,
                       "Go processes whose GC pauses gspyd exports.");
  watched.Add({}, static_cast<double>(watched_.size()));
  out->push_back(std::move(watched));
  MetricFamily unwatched(
      "gspy_gc_unwatched_processes", MetricType::kGauge,
      "Go processes whose GC is not exported: over --metrics-gc-max-processes "
      "(limit) or the watch failed (error).");
  unwatched.Add({{"reason", "limit"}}, static_cast<double>(over_limit_));
  unwatched.Add({{"reason", "error"}}, static_cast<double>(failed_.size()));
  out->push_back(std::move(unwatched));
  MetricFamily errors("gspy_gc_watch_errors_total", MetricType::kCounter,
                      "GC watches that could not start.");
  errors.Add({}, static_cast<double>(watch_errors_));
  out->push_back(std::move(errors));
  MetricFamily rescans("gspy_process_rescans_total", MetricType::kCounter,
                       "Scans of /proc for Go processes.");
  rescans.Add({}, static_cast<double>(rescans_));
  out->push_back(std::move(rescans));
}

}  // namespace gspy
