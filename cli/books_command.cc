#include "cli/books_command.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "golang/books/books_metrics.h"
#include "golang/books/runtime_books.h"
#include "golang/goroutines/memory_source.h"
#include "golang/process/go_process.h"

namespace gspy {
namespace {

int Fail(const std::string& msg) {
  fprintf(stderr, "gspy: %s\n", msg.c_str());
  return 1;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

// Doubles as strings that strconv.ParseFloat reads back bit for bit
// ("-Inf" and "+Inf" included, which JSON numbers cannot hold).
std::string Float(double v) { return JsonString(absl::StrFormat("%.17g", v)); }

void PrintJson(const GoProcess& proc, const RuntimeBooks& books,
               const BooksSnapshot& snap) {
  std::string out = absl::StrCat(
      "{\"pid\":", proc.pid,
      ",\"go_version\":", JsonString(proc.binary->build_info().go_version),
      ",\"globals\":{");
  const BooksGlobals& g = books.globals();
  std::vector<std::string> globals;
  for (const auto& [name, global] :
       std::initializer_list<std::pair<const char*, const BooksGlobal*>>{
           {"sched", &g.sched},
           {"memstats", &g.memstats},
           {"gcController", &g.gc_controller},
           {"gomaxprocs", &g.gomaxprocs},
           {"allp", &g.allp},
           {"ncgocall", &g.ncgocall},
           {"allm", &g.allm},
           {"extraMInUse", &g.extra_m_in_use},
           {"extraMLength", &g.extra_m_length}}) {
    globals.push_back(absl::StrCat(JsonString(name),
                                   ":{\"addr\":", global->addr,
                                   ",\"how\":", JsonString(global->how), "}"));
  }
  absl::StrAppend(&out, absl::StrJoin(globals, ","), "},\"metrics\":{");
  std::vector<std::string> metrics, errors;
  for (const BooksMetric& m : BooksMetrics(snap)) {
    if (!m.status.ok()) {
      errors.push_back(absl::StrCat(JsonString(m.name), ":",
                                    JsonString(m.status.ToString())));
      continue;
    }
    std::string v;
    switch (m.kind) {
      case BooksValueKind::kUint64:
        v = absl::StrCat("{\"uint64\":", m.u64, "}");
        break;
      case BooksValueKind::kFloat64:
        v = absl::StrCat("{\"float64\":", Float(m.f64), "}");
        break;
      case BooksValueKind::kHistogram: {
        std::vector<std::string> buckets;
        for (double b : *m.histogram.boundaries) buckets.push_back(Float(b));
        v = absl::StrCat("{\"counts\":[",
                         absl::StrJoin(m.histogram.counts, ","),
                         "],\"buckets\":[", absl::StrJoin(buckets, ","), "]}");
        break;
      }
    }
    metrics.push_back(absl::StrCat(JsonString(m.name), ":", v));
  }
  absl::StrAppend(&out, absl::StrJoin(metrics, ","), "},\"errors\":{",
                  absl::StrJoin(errors, ","), "}");
  if (snap.pause_ring.ok()) {
    std::vector<std::string> pauses;
    for (const GcPause& p : snap.pause_ring->pauses) {
      pauses.push_back(absl::StrCat("{\"cycle\":", p.cycle,
                                    ",\"pause_ns\":", p.pause_ns,
                                    ",\"end_unix_ns\":", p.end_unix_ns, "}"));
    }
    absl::StrAppend(
        &out, ",\"pause_ring\":{\"pauses\":[", absl::StrJoin(pauses, ","),
        "],\"lost\":", snap.pause_ring->lost,
        ",\"pause_total_ns\":", snap.pause_ring->pause_total_ns, "}");
  }
  std::vector<std::string> disabled;
  for (const auto& [series, d] : books.disabled()) {
    disabled.push_back(absl::StrCat(JsonString(BooksSeriesName(series)), ":",
                                    JsonString(d.reason + ": " + d.message)));
  }
  absl::StrAppend(&out, ",\"disabled\":{", absl::StrJoin(disabled, ","),
                  "}}\n");
  fputs(out.c_str(), stdout);
}

void PrintText(const GoProcess& proc, const RuntimeBooks& books,
               const BooksSnapshot& snap) {
  printf("pid %d  %s  %s\n", proc.pid, proc.exe_path.c_str(),
         proc.binary->build_info().go_version.c_str());
  for (const BooksMetric& m : BooksMetrics(snap)) {
    if (!m.status.ok()) {
      printf("  %-40s (%s)\n", std::string(m.name).c_str(),
             std::string(m.status.message()).c_str());
      continue;
    }
    switch (m.kind) {
      case BooksValueKind::kUint64:
        printf("  %-40s %llu\n", std::string(m.name).c_str(),
               static_cast<unsigned long long>(m.u64));
        break;
      case BooksValueKind::kFloat64:
        printf("  %-40s %.9g\n", std::string(m.name).c_str(), m.f64);
        break;
      case BooksValueKind::kHistogram: {
        uint64_t n = 0;
        for (uint64_t c : m.histogram.counts) n += c;
        printf("  %-40s %llu samples\n", std::string(m.name).c_str(),
               static_cast<unsigned long long>(n));
        break;
      }
    }
  }
  if (snap.pause_ring.ok()) {
    printf("GC pauses in the ring (MemStats.PauseNs/PauseEnd):\n");
    for (const GcPause& p : snap.pause_ring->pauses) {
      printf("  cycle %-6u %10.1fus  ended %s\n", p.cycle,
             static_cast<double>(p.pause_ns) / 1e3,
             absl::FormatTime(
                 "%Y-%m-%dT%H:%M:%E6S",
                 absl::FromUnixNanos(static_cast<int64_t>(p.end_unix_ns)),
                 absl::LocalTimeZone())
                 .c_str());
    }
  }
  for (const auto& [series, d] : books.disabled()) {
    printf("disabled %s: %s: %s\n", BooksSeriesName(series), d.reason.c_str(),
           d.message.c_str());
  }
}

// The process of --pid and its books, opened for reading.
struct Opened {
  GoProcess proc;
  std::unique_ptr<RuntimeBooks> books;
};

absl::StatusOr<Opened> OpenBooks(const CommandLine& cl) {
  int pid = 0;
  if (!cl.Get("pid") || !absl::SimpleAtoi(*cl.Get("pid"), &pid) || pid <= 0) {
    return absl::InvalidArgumentError("--pid=PID is required");
  }
  BinaryCache cache(4);
  ProcessTable table(&cache);
  absl::StatusOr<GoProcess> proc = table.Inspect(pid);
  if (!proc.ok()) return proc.status();
  ProcessMemory memory(pid);
  BooksOptions options;
  // Decode the runtime's functions even when .symtab names the globals.
  options.finder.use_symtab = !cl.Has("no-symtab");
  absl::StatusOr<std::unique_ptr<RuntimeBooks>> books =
      RuntimeBooks::Open(*proc->binary, memory, proc->load_bias, options);
  if (!books.ok()) return books.status();
  return Opened{*std::move(proc), *std::move(books)};
}

}  // namespace

int BooksGcCommand(const CommandLine& cl) {
  absl::Duration duration = absl::Seconds(60);
  if (auto d = cl.Get("duration"); d && !absl::ParseDuration(*d, &duration)) {
    return Fail("gc --books: bad --duration");
  }
  absl::Duration interval = absl::Milliseconds(100);
  if (auto d = cl.Get("interval"); d && (!absl::ParseDuration(*d, &interval) ||
                                         interval <= absl::ZeroDuration())) {
    return Fail("gc --books: bad --interval");
  }
  absl::StatusOr<Opened> opened = OpenBooks(cl);
  if (!opened.ok()) {
    return Fail(absl::StrCat("gc --books: ", opened.status().message()));
  }
  ProcessMemory memory(opened->proc.pid);
  fprintf(stderr,
          "gspy: GC pauses of pid %d (%s) from its pause ring "
          "(MemStats.PauseNs: one line per cycle, its stop-the-world pauses "
          "summed), every %s\n",
          opened->proc.pid,
          opened->proc.binary->build_info().go_version.c_str(),
          absl::FormatDuration(interval).c_str());
  uint64_t pauses = 0, lost = 0, total_ns = 0, max_ns = 0;
  const absl::Time end = absl::Now() + duration;
  for (;;) {
    absl::StatusOr<BooksSnapshot> snap = opened->books->Read(memory);
    if (absl::IsNotFound(snap.status())) break;  // exited
    if (!snap.ok()) {
      return Fail(absl::StrCat("gc --books: ", snap.status().message()));
    }
    if (!snap->pause_ring.ok()) {
      return Fail(
          absl::StrCat("gc --books: ", snap->pause_ring.status().message()));
    }
    if (snap->pause_ring->lost > 0) {
      lost += snap->pause_ring->lost;
      printf("(%llu cycles' pauses left the 256-entry ring unread)\n",
             static_cast<unsigned long long>(snap->pause_ring->lost));
    }
    for (const GcPause& p : snap->pause_ring->pauses) {
      ++pauses;
      total_ns += p.pause_ns;
      max_ns = std::max<uint64_t>(max_ns, p.pause_ns);
      printf("%s  pid=%d  cycle=%u  pause_ns=%llu  (%.1fus)\n",
             absl::FormatTime(
                 "%H:%M:%E6S",
                 absl::FromUnixNanos(static_cast<int64_t>(p.end_unix_ns)),
                 absl::LocalTimeZone())
                 .c_str(),
             opened->proc.pid, p.cycle,
             static_cast<unsigned long long>(p.pause_ns),
             static_cast<double>(p.pause_ns) / 1e3);
    }
    fflush(stdout);
    if (absl::Now() >= end) break;
    absl::SleepFor(interval);
  }
  printf("cycles=%llu lost=%llu total=%.1fus max=%.1fus\n",
         static_cast<unsigned long long>(pauses),
         static_cast<unsigned long long>(lost),
         static_cast<double>(total_ns) / 1e3,
         static_cast<double>(max_ns) / 1e3);
  return 0;
}

int BooksCommand(const CommandLine& cl) {
  absl::StatusOr<Opened> opened = OpenBooks(cl);
  if (!opened.ok()) {
    return Fail(absl::StrCat("books: ", opened.status().message()));
  }
  const GoProcess* proc = &opened->proc;
  ProcessMemory memory(proc->pid);
  std::unique_ptr<RuntimeBooks>& books = opened->books;
  absl::StatusOr<BooksSnapshot> snap = books->Read(memory);
  if (!snap.ok()) return Fail(absl::StrCat("books: ", snap.status().message()));
  if (cl.Has("json")) {
    PrintJson(*proc, *books, *snap);
  } else {
    PrintText(*proc, *books, *snap);
  }
  return 0;
}

}  // namespace gspy
