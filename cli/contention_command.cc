#include "cli/contention_command.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "golang/goroutines/memory_source.h"
#include "golang/process/go_process.h"
#include "profile/filter/sample_filter.h"

namespace gspy {

absl::StatusOr<std::string> ContentionProfileFor(const CommandLine& cl,
                                                 ContentionKind kind) {
  const char* name = ContentionKindName(kind);
  const std::vector<std::string> pids = cl.GetAll("pid");
  if (pids.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "profile ", name, " from the runtime reads one process: --pid=PID"));
  }
  int pid = 0;
  if (!absl::SimpleAtoi(pids[0], &pid) || pid <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--pid=", pids[0], ": not a pid"));
  }
  absl::Duration delta = absl::ZeroDuration();
  if (auto d = cl.Get("delta"); d && (!absl::ParseDuration(*d, &delta) ||
                                      delta <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        absl::StrCat("--delta=", *d, ": not a positive duration (e.g. 10s)"));
  }
  absl::StatusOr<SampleFilter> filter =
      SampleFilter::Parse(cl.Get("filter").value_or(""));
  if (!filter.ok()) return filter.status();
  BucketPprofOptions pprof_options;
  if (!filter->empty()) {
    pprof_options.filter = &*filter;
    pprof_options.filter_text = cl.Get("filter").value_or("");
  }
  BinaryCache cache(4);
  ProcessTable table(&cache);
  absl::StatusOr<GoProcess> proc = table.Inspect(pid);
  if (!proc.ok()) return proc.status();
  ProcessMemory memory(pid);
  ContentionReaderOptions options;
  options.use_symtab = !cl.Has("no-symtab");
  absl::StatusOr<std::unique_ptr<ContentionReader>> reader =
      ContentionReader::Open(*proc->binary, memory, proc->load_bias, kind,
                             options);
  if (!reader.ok()) return reader.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<ContentionSnapshot> snap = (*reader)->Read(memory);
  if (!snap.ok()) return snap.status();
  fprintf(stderr,
          "gspy: %s profile of pid %d (%s, rate %lld): read %zu buckets in "
          "%.1f ms (dropped: %zu torn, %zu implausible)\n",
          name, pid, proc->binary->build_info().go_version.c_str(),
          static_cast<long long>(snap->rate), snap->records.size(),
          absl::ToDoubleMilliseconds(absl::Now() - start), snap->torn_records,
          snap->bad_headers);
  if (delta > absl::ZeroDuration()) {
    absl::SleepFor(delta);
    absl::StatusOr<ContentionSnapshot> after = (*reader)->Read(memory);
    if (!after.ok()) return after.status();
    return ContentionPprof(*proc, ContentionDelta(*snap, *after), delta,
                           pprof_options);
  }
  return ContentionPprof(*proc, *snap, absl::ZeroDuration(), pprof_options);
}

}  // namespace gspy
