#include "cli/leak_watch_command.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/goroutines_command.h"
#include "cli/leak_report.h"
#include "golang/goroutines/leak_detector.h"

namespace gspy {
namespace {

// A dump of a few thousand goroutines takes tens of ms; this bounds a hung
// daemon, not a slow dump.
constexpr absl::Duration kSnapshotDeadline = absl::Seconds(30);

std::atomic<bool> interrupted{false};

void OnInterrupt(int) { interrupted.store(true); }

struct WatchFlags {
  absl::Duration watch;
  absl::Duration interval;
  std::string format;
  LeakDetectorOptions detector;
};

absl::StatusOr<WatchFlags> ParseWatchFlags(const CommandLine& cl) {
  WatchFlags f;
  const std::string watch = cl.Get("watch").value_or("");
  if (!absl::ParseDuration(watch, &f.watch) ||
      f.watch <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--watch=", watch, ": not a positive duration (e.g. 60s)"));
  }
  // About a dozen snapshots whatever the watch, but not more often than
  // once a second: a dump reads every goroutine's stack.
  f.interval = std::max(absl::Seconds(1), f.watch / 12);
  if (auto i = cl.Get("interval")) {
    if (!absl::ParseDuration(*i, &f.interval) ||
        f.interval <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--interval=", *i, ": not a positive duration (e.g. 5s)"));
    }
  }
  GrowthCriterion& c = f.detector.criterion;
  if (auto g = cl.Get("min-growth")) {
    if (!absl::SimpleAtoi(*g, &c.min_growth) || c.min_growth < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--min-growth=", *g, ": not a number >= 1"));
    }
  }
  if (auto r = cl.Get("min-r2")) {
    if (!absl::SimpleAtod(*r, &c.min_r2) || c.min_r2 < 0 || c.min_r2 > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--min-r2=", *r, ": not a number from 0 to 1"));
    }
  }
  if (auto n = cl.Get("min-snapshots")) {
    if (!absl::SimpleAtoi(*n, &c.min_points) || c.min_points < 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("--min-snapshots=", *n, ": not a number >= 3"));
    }
  }
  f.format = cl.Get("format").value_or("text");
  if (f.format != "text" && f.format != "json") {
    return absl::InvalidArgumentError(
        "goroutines --watch: --format must be text or json");
  }
  return f;
}

// Sleeps until `when`, waking early on SIGINT.
void SleepUntil(absl::Time when) {
  while (!interrupted.load()) {
    const absl::Duration left = when - absl::Now();
    if (left <= absl::ZeroDuration()) return;
    absl::SleepFor(std::min(left, absl::Milliseconds(100)));
  }
}

std::string Progress(int index, int planned, absl::Duration since_start,
                     const GoroutinesDumps& response) {
  std::vector<std::string> parts;
  for (const gspy::v1::ProcessGoroutines& p : response.processes) {
    parts.push_back(
        absl::StrCat("pid ", p.pid(), " ", p.goroutines_size(), " goroutines"));
  }
  return absl::StrFormat("gspy: snapshot %d/%d at +%.1fs: %s", index + 1,
                         planned, absl::ToDoubleSeconds(since_start),
                         absl::StrJoin(parts, ", "));
}

}  // namespace

int LeakWatchCommand(gspy::v1::Profiler::Stub& stub, const CommandLine& cl) {
  absl::StatusOr<WatchFlags> flags = ParseWatchFlags(cl);
  if (!flags.ok()) {
    fprintf(stderr, "gspy: %s\n",
            std::string(flags.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<gspy::v1::GetGoroutinesRequest> request =
      GoroutinesRequestFromFlags(cl);
  if (!request.ok()) {
    fprintf(stderr, "gspy: %s\n",
            std::string(request.status().message()).c_str());
    return 1;
  }
  const int planned = static_cast<int>(flags->watch / flags->interval) + 1;
  const int needed = flags->detector.criterion.min_points;
  if (planned < needed) {
    fprintf(stderr,
            "gspy: warning: --watch=%s with --interval=%s takes %d snapshots; "
            "%d are needed to judge growth: watch longer or more often\n",
            absl::FormatDuration(flags->watch).c_str(),
            absl::FormatDuration(flags->interval).c_str(), planned, needed);
  }
  fprintf(stderr, "gspy: watching goroutines for %s, a snapshot every %s\n",
          absl::FormatDuration(flags->watch).c_str(),
          absl::FormatDuration(flags->interval).c_str());

  interrupted.store(false);
  std::signal(SIGINT, OnInterrupt);
  LeakDetector detector(flags->detector);
  LeakReport report;
  absl::flat_hash_set<std::string> said;
  auto warn = [&](const std::string& w) {
    if (!said.insert(w).second) return;
    fprintf(stderr, "gspy: warning: %s\n", w.c_str());
    report.warnings.push_back(w);
  };
  std::set<int32_t> seen, gone;
  int taken = 0;
  const absl::Time start = absl::Now();
  for (int i = 0; i < planned; ++i) {
    SleepUntil(start + i * flags->interval);
    if (interrupted.load()) {
      warn(absl::StrCat("interrupted after ", taken, " snapshots"));
      report.ended_early = true;
      break;
    }
    const absl::Time before = absl::Now();
    absl::StatusOr<GoroutinesDumps> dumps =
        ReadGoroutines(stub, *request, kSnapshotDeadline);
    // Each goroutine was read at some moment of the call: its middle is
    // the best guess for all of them.
    const absl::Time at = before + (absl::Now() - before) / 2;
    if (!dumps.ok()) {
      const absl::StatusCode code = dumps.status().code();
      const std::string what = absl::StrCat(absl::StatusCodeToString(code),
                                            ": ", dumps.status().message());
      if (taken == 0) {
        fprintf(stderr, "gspy: %s\n", what.c_str());
        return 1;
      }
      // NOT_FOUND: every selected process is gone; UNAVAILABLE: so is
      // gspyd. Report what was seen rather than wait out the watch.
      if (code == absl::StatusCode::kNotFound ||
          code == absl::StatusCode::kUnavailable ||
          code == absl::StatusCode::kFailedPrecondition) {
        warn(absl::StrCat("stopped after ", taken, " of ", planned,
                          " snapshots: ", what,
                          "; reporting the snapshots taken"));
        report.ended_early = true;
        break;
      }
      warn(absl::StrCat("snapshot ", i + 1, " failed: ", what));
      continue;
    }
    ++taken;
    const GoroutinesDumps& response = *dumps;
    for (const std::string& w : response.warnings) warn(w);
    std::set<int32_t> present;
    for (const gspy::v1::ProcessGoroutines& p : response.processes) {
      for (const std::string& w : p.warnings()) {
        warn(absl::StrCat("pid ", p.pid(), ": ", w));
      }
      present.insert(p.pid());
      seen.insert(p.pid());
      detector.Add(at, p);
    }
    for (const int32_t pid : seen) {
      if (!present.contains(pid) && gone.insert(pid).second) {
        warn(
            absl::StrCat("pid ", pid, " was not in snapshot ", i + 1,
                         " (exited?); its report covers the snapshots before"));
      }
    }
    fprintf(stderr, "%s\n",
            Progress(i, planned, absl::Now() - start, response).c_str());
  }
  std::signal(SIGINT, SIG_DFL);

  report.processes = detector.Analyze();
  const std::string out = flags->format == "json"
                              ? FormatLeakReportJson(report)
                              : FormatLeakReportText(report);
  fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace gspy
