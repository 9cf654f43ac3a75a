#include "cli/contention_command.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/bucket_pull_args.h"
#include "golang/goroutines/memory_source.h"
#include "golang/process/go_process.h"

namespace gspy {

absl::StatusOr<std::string> ContentionProfileFor(const CommandLine& cl,
                                                 ContentionKind kind) {
  const char* name = ContentionKindName(kind);
  absl::StatusOr<BucketPullArgs> args = ParseBucketPullArgs(cl, name);
  if (!args.ok()) return args.status();
  const int pid = args->pid;
  const absl::Duration delta = args->delta;
  const BucketPprofOptions pprof_options = args->PprofOptions();
  BinaryCache cache(4);
  ProcessTable table(&cache);
  absl::StatusOr<GoProcess> proc = table.Inspect(pid);
  if (!proc.ok()) return proc.status();
  ProcessMemory memory(pid);
  ContentionReaderOptions options;
  options.use_symtab = args->use_symtab;
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
