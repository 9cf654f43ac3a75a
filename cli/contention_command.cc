#include "cli/contention_command.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "golang/goroutines/memory_source.h"
#include "golang/process/go_process.h"

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
  return ContentionPprof(*proc, *snap);
}

}  // namespace gspy
