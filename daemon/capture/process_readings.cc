#include "daemon/capture/process_readings.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "golang/books/books_metrics.h"
#include "golang/goroutines/goroutine_dump.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {
namespace {

constexpr int Index(CaptureMetric m) { return static_cast<int>(m); }

// /proc/PID/stat is a few hundred bytes; bounded all the same.
absl::StatusOr<std::string> ReadStat(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  if (!in) return absl::NotFoundError(absl::StrCat("pid ", pid, " is gone"));
  std::string text(4096, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

}  // namespace

double HistogramQuantile(const std::vector<uint64_t>& counts,
                         const std::vector<double>& boundaries, double q) {
  if (boundaries.size() != counts.size() + 1) return 0;
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0) return 0;
  // The rank of the quantile, 1-based: the p99 of 100 waits is the 99th.
  const double rank = std::max(1.0, q * static_cast<double>(total));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (static_cast<double>(seen) >= rank) {
      const double upper = boundaries[i + 1];
      return std::isinf(upper) ? std::max(0.0, boundaries[i]) : upper;
    }
  }
  return std::max(0.0, boundaries[counts.size() - 1]);
}

absl::StatusOr<uint64_t> ParseStatCpuTicks(const std::string& stat) {
  // The command name is in parentheses and may hold anything: the fields
  // start after the last ')'. Then state (field 3) ... utime (14), stime (15).
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) {
    return absl::InvalidArgumentError("/proc/PID/stat: no ')'");
  }
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(stat).substr(paren + 1), ' ', absl::SkipEmpty());
  uint64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::InvalidArgumentError(
        "/proc/PID/stat: no utime and stime fields");
  }
  return utime + stime;
}

ProcessReadings::ProcessReadings(const ProcessTable* processes,
                                 GoProcess process)
    : processes_(processes), process_(std::move(process)) {}

ProcessReadings::~ProcessReadings() = default;

absl::Status ProcessReadings::OpenBooks() {
  if (books_ != nullptr) return absl::OkStatus();
  const absl::Time now = absl::Now();
  if (now < next_open_) return open_error_;
  next_open_ = now + absl::Seconds(10);
  if (!inspected_) {
    // The listing leaves the mappings out; a PIE's load bias needs them.
    absl::StatusOr<GoProcess> full = processes_->Inspect(process_.pid);
    if (!full.ok()) return open_error_ = full.status();
    load_bias_ = full->load_bias;
    inspected_ = true;
  }
  ProcessMemory memory(process_.pid);
  absl::StatusOr<std::unique_ptr<RuntimeBooks>> opened =
      RuntimeBooks::Open(*process_.binary, memory, load_bias_);
  if (!opened.ok()) return open_error_ = opened.status();
  books_ = *std::move(opened);
  return absl::OkStatus();
}

absl::StatusOr<BooksSnapshot> ProcessReadings::ReadBooks() {
  if (absl::Status s = OpenBooks(); !s.ok()) return s;
  ProcessMemory memory(process_.pid);
  absl::StatusOr<BooksSnapshot> snap = books_->Read(memory);
  if (snap.ok()) last_books_ = *snap;
  return snap;
}

Readings ProcessReadings::Look(const bool needed[5]) {
  Readings r;
  r.at = absl::Now();
  const absl::Status baseline =
      absl::UnavailableError("first look: the baseline");
  if (needed[Index(CaptureMetric::kGcPause)] ||
      needed[Index(CaptureMetric::kSchedLatencyP99)]) {
    absl::StatusOr<BooksSnapshot> snap = ReadBooks();
    auto& pause = r.value[Index(CaptureMetric::kGcPause)];
    auto& sched = r.value[Index(CaptureMetric::kSchedLatencyP99)];
    if (!snap.ok()) {
      pause = sched = snap.status();
    } else {
      if (!snap->pause_ring.ok()) {
        pause = snap->pause_ring.status();
      } else if (!have_pause_baseline_) {
        // The first read returns what the ring still holds: old pauses.
        have_pause_baseline_ = true;
        pause = baseline;
      } else {
        uint64_t longest = 0;
        for (const GcPause& p : snap->pause_ring->pauses) {
          longest = std::max(longest, p.pause_ns);
        }
        pause = static_cast<double>(longest) * 1e-9;
      }
      if (!snap->sched_latencies.ok()) {
        sched = snap->sched_latencies.status();
      } else {
        const BooksHistogram& h = *snap->sched_latencies;
        if (last_sched_counts_.size() != h.counts.size() ||
            h.boundaries == nullptr) {
          sched = baseline;
        } else {
          std::vector<uint64_t> delta(h.counts.size());
          for (size_t i = 0; i < delta.size(); ++i) {
            delta[i] = h.counts[i] >= last_sched_counts_[i]
                           ? h.counts[i] - last_sched_counts_[i]
                           : 0;
          }
          sched = HistogramQuantile(delta, *h.boundaries, 0.99);
        }
        last_sched_counts_ = h.counts;
      }
    }
  }
  if (needed[Index(CaptureMetric::kGoroutines)] ||
      needed[Index(CaptureMetric::kGoroutineGrowth)]) {
    auto& count = r.value[Index(CaptureMetric::kGoroutines)];
    auto& growth = r.value[Index(CaptureMetric::kGoroutineGrowth)];
    absl::Status opened = OpenBooks();
    // The books may be missing for a Go version; the load bias is not.
    if (!opened.ok() && !inspected_) {
      count = growth = opened;
    } else {
      DumpOptions options;
      options.states_only = true;
      options.attempts = 1;
      options.known_allgs = have_allgs_ ? &allgs_ : nullptr;
      ProcessMemory memory(process_.pid);
      absl::StatusOr<GoroutineDump> dump =
          TakeGoroutineDump(*process_.binary, memory, load_bias_, options);
      if (!dump.ok()) {
        have_allgs_ = false;
        count = growth = dump.status();
      } else {
        allgs_ = dump->allgs;
        have_allgs_ = true;
        const int64_t n = static_cast<int64_t>(dump->goroutines.size());
        count = static_cast<double>(n);
        if (last_goroutines_.has_value() && r.at > last_goroutines_->first) {
          growth = static_cast<double>(n - last_goroutines_->second) /
                   absl::ToDoubleSeconds(r.at - last_goroutines_->first);
        } else {
          growth = baseline;
        }
        last_goroutines_ = {r.at, n};
      }
    }
  }
  if (needed[Index(CaptureMetric::kCpu)]) {
    auto& cpu = r.value[Index(CaptureMetric::kCpu)];
    absl::StatusOr<std::string> stat = ReadStat(process_.pid);
    absl::StatusOr<uint64_t> ticks =
        stat.ok() ? ParseStatCpuTicks(*stat)
                  : absl::StatusOr<uint64_t>(stat.status());
    if (!ticks.ok()) {
      cpu = ticks.status();
    } else {
      if (last_cpu_ticks_.has_value() && r.at > last_cpu_ticks_->first &&
          *ticks >= last_cpu_ticks_->second) {
        static const double kHz = static_cast<double>(sysconf(_SC_CLK_TCK));
        const double busy =
            static_cast<double>(*ticks - last_cpu_ticks_->second) / kHz;
        cpu = 100 * busy / absl::ToDoubleSeconds(r.at - last_cpu_ticks_->first);
      } else {
        cpu = baseline;
      }
      last_cpu_ticks_ = {r.at, *ticks};
    }
  }
  return r;
}

std::string ProcessReadings::BooksText() {
  if (!last_books_.has_value()) {
    absl::StatusOr<BooksSnapshot> snap = ReadBooks();
    if (!snap.ok()) {
      return absl::StrCat("# runtime books not read: ", snap.status().message(),
                          "\n");
    }
  }
  std::string out =
      absl::StrCat("# the runtime's books of pid ", process_.pid, " (Go 1.",
                   last_books_->go_minor, "), as runtime/metrics names them\n");
  for (const BooksMetric& m : BooksMetrics(*last_books_)) {
    if (!m.status.ok()) {
      absl::StrAppend(&out, "# ", std::string(m.name), ": ", m.status.message(),
                      "\n");
      continue;
    }
    switch (m.kind) {
      case BooksValueKind::kUint64:
        absl::StrAppend(&out, std::string(m.name), " ", m.u64, "\n");
        break;
      case BooksValueKind::kFloat64:
        absl::StrAppend(&out, std::string(m.name), " ", m.f64, "\n");
        break;
      case BooksValueKind::kHistogram: {
        uint64_t total = 0;
        for (uint64_t c : m.histogram.counts) total += c;
        const std::vector<double> none;
        const std::vector<double>& b =
            m.histogram.boundaries != nullptr ? *m.histogram.boundaries : none;
        absl::StrAppend(
            &out, std::string(m.name), " count=", total,
            " p50<=", HistogramQuantile(m.histogram.counts, b, 0.5),
            " p99<=", HistogramQuantile(m.histogram.counts, b, 0.99),
            " max<=", HistogramQuantile(m.histogram.counts, b, 1), "\n");
        break;
      }
    }
  }
  if (last_books_->pause_ring.ok()) {
    absl::StrAppend(&out, "# GC pauses since the last look (ns):");
    for (const GcPause& p : last_books_->pause_ring->pauses) {
      absl::StrAppend(&out, " ", p.pause_ns);
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace gspy
