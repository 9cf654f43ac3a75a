#include "cli/heap_command.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/bucket_pull_args.h"
#include "golang/goroutines/memory_source.h"
#include "golang/process/go_process.h"
#include "golang/profiles/heap_profile.h"

namespace gspy {

absl::StatusOr<std::string> HeapProfileFor(const CommandLine& cl) {
  absl::StatusOr<BucketPullArgs> args = ParseBucketPullArgs(cl, "heap");
  if (!args.ok()) return args.status();
  const int pid = args->pid;
  const absl::Duration delta = args->delta;
  const BucketPprofOptions pprof_options = args->PprofOptions();
  BinaryCache cache(4);
  ProcessTable table(&cache);
  absl::StatusOr<GoProcess> proc = table.Inspect(pid);
  if (!proc.ok()) return proc.status();
  ProcessMemory memory(pid);
  HeapReaderOptions options;
  options.use_symtab = args->use_symtab;
  absl::StatusOr<std::unique_ptr<HeapReader>> reader =
      HeapReader::Open(*proc->binary, memory, proc->load_bias, options);
  if (!reader.ok()) return reader.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<HeapSnapshot> snap = (*reader)->Read(memory);
  if (!snap.ok()) return snap.status();
  // What was read and how long it took (the process runs on meanwhile).
  fprintf(stderr,
          "gspy: heap profile of pid %d (%s, MemProfileRate=%lld): read %zu "
          "buckets in %.1f ms (dropped: %zu torn, %zu implausible)\n",
          pid, proc->binary->build_info().go_version.c_str(),
          static_cast<long long>(snap->rate), snap->records.size(),
          absl::ToDoubleMilliseconds(absl::Now() - start), snap->torn_records,
          snap->bad_headers);
  if (delta > absl::ZeroDuration()) {
    absl::SleepFor(delta);
    absl::StatusOr<HeapSnapshot> after = (*reader)->Read(memory);
    if (!after.ok()) return after.status();
    return HeapPprof(*proc, HeapDelta(*snap, *after), delta, pprof_options);
  }
  return HeapPprof(*proc, *snap, absl::ZeroDuration(), pprof_options);
}

}  // namespace gspy
