#include "daemon/export/metrics/books_collector.h"

#include <cstdio>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/export/metrics/gc_process_stats.h"
#include "daemon/export/metrics/runtime_histogram.h"
#include "golang/books/books_metrics.h"
#include "golang/goroutines/memory_source.h"
#include "golang/profiles/heap_profile.h"

namespace gspy {
namespace {

// The unit of a runtime/metrics name: "/sched/latencies:seconds" ->
// "seconds".
std::string_view UnitOf(std::string_view name) {
  const size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? std::string_view()
                                         : name.substr(colon + 1);
}

MetricType TypeOf(const BooksMetric& m) {
  if (m.kind == BooksValueKind::kHistogram) return MetricType::kHistogram;
  return m.cumulative ? MetricType::kCounter : MetricType::kGauge;
}

}  // namespace

void BooksCollector::Collect(MetricFamilies* out) {
  std::vector<GoProcess> procs = processes_->ListGoProcesses();
  size_t skipped = procs.size() > options_.max_processes
                       ? procs.size() - options_.max_processes
                       : 0;
  procs.resize(procs.size() - skipped);

  // One family per metric name, in the order first seen.
  std::vector<MetricFamily> families;
  std::map<std::string, size_t> family_index;
  auto family = [&](const BooksMetric& m) -> MetricFamily& {
    const std::string name = BooksPrometheusName(
        m.name, m.cumulative && m.kind != BooksValueKind::kHistogram);
    auto [it, added] = family_index.emplace(name, families.size());
    if (added) {
      families.emplace_back(
          name, TypeOf(m),
          absl::StrCat(std::string(m.help), " (", std::string(m.name),
                       ", read from the process's memory)"));
    }
    return families[it->second];
  };

  MetricFamily disabled_now(
      "gspy_go_books_series_disabled", MetricType::kGauge,
      "1 for each runtime-books series gspyd does not export for a process, "
      "with the reason (see gspy_go_books_series_disabled_total).");
  MetricFamily heap_available(
      "gspy_go_heap_profile_available", MetricType::kGauge,
      "1 when gspy can read the process's heap profile from the Go "
      "runtime's buckets (gspy profile heap), else 0 with the reason: "
      "no_memory_profiler (the binary does not link runtime.MemProfile), "
      "memprofilerate_zero, globals_not_found.");
  GcFamilies gc;
  absl::MutexLock lock(&mu_);
  std::set<int> alive;
  const absl::Time start = absl::Now();
  for (const GoProcess& proc : procs) {
    alive.insert(proc.pid);
    if (absl::Now() - start > options_.budget) {
      ++skipped;
      continue;
    }
    ProcessBooks& pb = by_pid_[proc.pid];
    if (pb.exe_inode != proc.exe_inode) {
      pb = ProcessBooks{proc.exe_inode};  // a new process
    }
    ProcessMemory memory(proc.pid);
    const absl::Time now = absl::Now();
    if ((pb.books == nullptr || pb.reopen) && now >= pb.next_open) {
      // The listing leaves the mappings out; the load bias (PIE) needs them.
      absl::StatusOr<GoProcess> full = processes_->Inspect(proc.pid);
      absl::StatusOr<std::unique_ptr<RuntimeBooks>> opened =
          full.ok()
              ? RuntimeBooks::Open(*full->binary, memory, full->load_bias)
              : absl::StatusOr<std::unique_ptr<RuntimeBooks>>(full.status());
      pb.next_open = now + options_.retry_open;
      pb.reopen = false;
      if (opened.ok()) {
        pb.books = *std::move(opened);
      } else if (!absl::IsNotFound(opened.status())) {
        ++errors_;
        fprintf(stderr, "gspyd: metrics: books of pid %d: %s\n", proc.pid,
                std::string(opened.status().message()).c_str());
      }
    }
    const MetricLabels labels = GcProcessLabels(proc);
    if (now >= pb.heap_next_check) {
      // A few words of the process and, when stripped, a few runtime
      // functions decoded: at most once per retry_open.
      absl::StatusOr<GoProcess> full = processes_->Inspect(proc.pid);
      pb.heap_reason = full.ok() ? HeapUnavailableReason(HeapProfileAvailable(
                                       *full->binary, memory, full->load_bias))
                                 : "process_gone";
      pb.heap_next_check = now + options_.retry_open;
    }
    if (pb.heap_reason != "process_gone") {
      MetricLabels l = labels;
      l.emplace_back("reason", pb.heap_reason);
      heap_available.Add(std::move(l), pb.heap_reason.empty() ? 1 : 0);
    }
    if (pb.books == nullptr) continue;
    absl::StatusOr<BooksSnapshot> snap = pb.books->Read(memory);
    ++reads_;
    // Disabled series: logged and counted once per process and reason.
    for (const auto& [series, d] : pb.books->disabled()) {
      const std::string name = BooksSeriesName(series);
      MetricLabels l = labels;
      l.emplace_back("series", name);
      l.emplace_back("reason", d.reason);
      disabled_now.Add(std::move(l), 1);
      if (d.reason == "not_found" && !pb.reopen) {
        pb.reopen = true;  // at pb.next_open
      }
      if (!pb.counted.insert({name, d.reason}).second) continue;
      ++disabled_[{name, d.reason}];
      fprintf(stderr, "gspyd: metrics: pid %d: %s disabled (%s): %s\n",
              proc.pid, name.c_str(), d.reason.c_str(), d.message.c_str());
    }
    if (!snap.ok()) {
      if (!absl::IsNotFound(snap.status())) ++errors_;
      continue;
    }
    if (options_.gc_series) {
      // The uprobe source's families, from the books: cycles since the
      // process started, each GC stop-the-world pause in Go's buckets.
      if (snap->gc_cycles.ok()) gc.cycles.Add(labels, *snap->gc_cycles);
      if (snap->gc_pauses.ok()) {
        AddRuntimeHistogram(&gc.pause_seconds, labels, *snap->gc_pauses,
                            "seconds", options_.histogram_buckets);
      }
    }
    for (const BooksMetric& m : BooksMetrics(*snap)) {
      if (!m.status.ok() || !options_.runtime_metrics) continue;
      MetricFamily& f = family(m);
      switch (m.kind) {
        case BooksValueKind::kUint64:
          f.Add(labels, static_cast<double>(m.u64));
          break;
        case BooksValueKind::kFloat64:
          f.Add(labels, m.f64);
          break;
        case BooksValueKind::kHistogram:
          AddRuntimeHistogram(&f, labels, m.histogram, UnitOf(m.name),
                              options_.histogram_buckets);
          break;
      }
    }
  }
  // Forget processes that are gone.
  for (auto it = by_pid_.begin(); it != by_pid_.end();) {
    it = alive.contains(it->first) ? std::next(it) : by_pid_.erase(it);
  }
  for (MetricFamily& f : families) out->push_back(std::move(f));
  if (options_.gc_series) {
    out->push_back(std::move(gc.pause_seconds));
    out->push_back(std::move(gc.cycles));
  }
  out->push_back(std::move(disabled_now));
  out->push_back(std::move(heap_available));

  MetricFamily disabled("gspy_go_books_series_disabled_total",
                        MetricType::kCounter,
                        "Runtime-books series disabled for a process, by "
                        "series and reason (not_found: its runtime global was "
                        "not found; unreadable, implausible, not_monotonic: "
                        "its memory failed a check). The process's other "
                        "series go on.");
  for (const auto& [key, n] : disabled_) {
    disabled.Add({{"series", key.first}, {"reason", key.second}},
                 static_cast<double>(n));
  }
  out->push_back(std::move(disabled));
  out->push_back(
      SingleSample("gspy_go_books_reads_total", MetricType::kCounter,
                   "Reads of Go processes' runtime books for /metrics.",
                   static_cast<double>(reads_)));
  out->push_back(SingleSample(
      "gspy_go_books_errors_total", MetricType::kCounter,
      "Runtime-books reads or set-ups that failed for a process still "
      "running.",
      static_cast<double>(errors_)));
  out->push_back(SingleSample(
      "gspy_go_books_processes_skipped", MetricType::kGauge,
      "Go processes whose books the last scrape did not read: over "
      "--metrics-books-max-processes or past the scrape's time budget.",
      static_cast<double>(skipped)));
  out->push_back(
      SingleSample("gspy_go_books_read_seconds", MetricType::kGauge,
                   "Time the last scrape spent reading runtime books.",
                   absl::ToDoubleSeconds(absl::Now() - start)));
}

}  // namespace gspy
