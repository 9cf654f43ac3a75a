#include "daemon/export/metrics/goroutine_state_collector.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/export/metrics/gc_process_stats.h"
#include "golang/goroutines/g_struct.h"
#include "golang/goroutines/goroutine_dump.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {
namespace {

// The states a goroutine is counted in. A preempted goroutine waits for the
// scheduler like a runnable one; copystack is a moment of a running one.
std::string StateLabel(uint32_t status) {
  switch (status) {
    case kGPreempted:
      return "runnable";
    case kGCopyStack:
      return "running";
    default:
      return std::string(StatusName(status));
  }
}

}  // namespace

void GoroutineStateCollector::Collect(MetricFamilies* out) {
  MetricFamily states("gspy_go_goroutines", MetricType::kGauge,
                      "Goroutines of each Go process by state (running, "
                      "runnable, waiting, syscall, leaked), system goroutines "
                      "included, read at the scrape.");
  MetricFamily waiting("gspy_go_goroutines_waiting", MetricType::kGauge,
                       "Waiting goroutines of each Go process by Go's wait "
                       "reason.");
  MetricFamily truncated("gspy_goroutine_states_truncated", MetricType::kGauge,
                         "1 for a process with more goroutines than "
                         "--metrics-goroutines-max (the rest are not "
                         "counted).");

  std::vector<GoProcess> procs = processes_->ListGoProcesses();
  size_t skipped = procs.size() > options_.max_processes
                       ? procs.size() - options_.max_processes
                       : 0;
  procs.resize(procs.size() - skipped);

  DumpOptions dump_options;
  dump_options.states_only = true;
  dump_options.include_system = true;
  dump_options.attempts = 1;
  dump_options.max_goroutines = options_.max_goroutines;
  uint64_t reads = 0;
  uint64_t errors = 0;
  absl::MutexLock lock(&mu_);
  absl::flat_hash_map<int, KnownProcess> known;
  const absl::Time start = absl::Now();
  for (const GoProcess& proc : procs) {
    if (absl::Now() - start > options_.budget) {
      ++skipped;
      continue;
    }
    ProcessMemory memory(proc.pid);
    absl::StatusOr<uint64_t> start_ticks = ProcessStartTicks(proc.pid);
    if (!start_ticks.ok()) continue;  // gone
    auto it = known_.find(proc.pid);
    KnownProcess k;
    DumpOptions options = dump_options;
    if (it != known_.end() && it->second.start_ticks == *start_ticks &&
        it->second.exe_inode == proc.exe_inode) {
      k = it->second;
      options.known_allgs = &k.allgs;
    } else {
      // The listing leaves the mappings out; a PIE's load bias needs them.
      absl::StatusOr<GoProcess> full = processes_->Inspect(proc.pid);
      if (!full.ok()) {
        if (!absl::IsNotFound(full.status())) ++errors;
        continue;
      }
      k = {*start_ticks, proc.exe_inode, full->load_bias, {}};
    }
    absl::StatusOr<GoroutineDump> dump =
        TakeGoroutineDump(*proc.binary, memory, k.load_bias, options);
    ++reads;
    if (!dump.ok()) {
      // Gone meanwhile, or no allgs to be found: no series for it (and it
      // is searched for afresh at the next scrape).
      if (!absl::IsNotFound(dump.status())) ++errors;
      continue;
    }
    k.allgs = dump->allgs;
    known.emplace(proc.pid, std::move(k));
    std::map<std::string, int64_t> by_state = {
        {"running", 0}, {"runnable", 0}, {"waiting", 0}, {"syscall", 0}};
    std::map<std::string, int64_t> by_reason;
    for (const GoroutineRecord& g : dump->goroutines) {
      ++by_state[StateLabel(g.status)];
      if (g.status == kGWaiting) ++by_reason[g.wait_reason];
    }
    const MetricLabels process = GcProcessLabels(proc);
    auto with = [&](const char* key, const std::string& value) {
      MetricLabels labels = process;
      labels.emplace_back(key, value);
      return labels;
    };
    for (const auto& [state, n] : by_state) {
      states.Add(with("state", state), static_cast<double>(n));
    }
    for (const auto& [reason, n] : by_reason) {
      waiting.Add(with("reason", reason), static_cast<double>(n));
    }
    truncated.Add(
        process, dump->allgs_len > static_cast<int64_t>(options_.max_goroutines)
                     ? 1
                     : 0);
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  out->push_back(std::move(states));
  out->push_back(std::move(waiting));
  out->push_back(std::move(truncated));

  // Processes not read this scrape (gone, over the limits) are forgotten.
  known_ = std::move(known);
  reads_ += reads;
  errors_ += errors;
  out->push_back(
      SingleSample("gspy_goroutine_state_reads_total", MetricType::kCounter,
                   "Go processes whose goroutines were counted for /metrics.",
                   static_cast<double>(reads_)));
  out->push_back(SingleSample(
      "gspy_goroutine_state_errors_total", MetricType::kCounter,
      "Counts that failed for a process still running (e.g. allgs not "
      "found).",
      static_cast<double>(errors_)));
  out->push_back(SingleSample(
      "gspy_goroutine_state_processes_skipped", MetricType::kGauge,
      "Go processes not counted at the last scrape: over "
      "--metrics-goroutines-max-processes or past the scrape's time budget.",
      static_cast<double>(skipped)));
  out->push_back(
      SingleSample("gspy_goroutine_state_read_seconds", MetricType::kGauge,
                   "Time the last scrape spent counting goroutines.", seconds));
}

}  // namespace gspy
