#include "golang/process/go_process.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace gspy {
namespace {

std::string ReadComm(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/comm"));
  std::string comm;
  std::getline(in, comm);
  return comm;
}

// The fields of /proc/PID/stat after the command name (which may hold
// spaces or ')'): [0] is the state (field 3), [6] the flags (field 9),
// [19] the start time (field 22). Empty when the process is gone.
std::vector<std::string> StatFields(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  if (!std::getline(in, stat)) return {};
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return {};
  return absl::StrSplit(absl::string_view(stat).substr(close + 1),
                        absl::ByChar(' '), absl::SkipEmpty());
}

// The state letter from /proc/PID/stat ('R', 'S', 'Z', ...), or '?'.
char ProcessState(int pid) {
  std::vector<std::string> f = StatFields(pid);
  return f.empty() || f[0].empty() ? '?' : f[0][0];
}

// Task flags (include/linux/sched.h).
constexpr uint64_t kPfExiting = 0x4;
constexpr uint64_t kPfKthread = 0x200000;

}  // namespace

absl::StatusOr<uint64_t> ProcessStartTicks(int pid) {
  std::vector<std::string> fields = StatFields(pid);
  if (fields.empty()) {
    return absl::NotFoundError(absl::StrCat("pid ", pid, ": no such process"));
  }
  uint64_t ticks = 0;
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[19], &ticks)) {
    return absl::InternalError(
        absl::StrCat("/proc/", pid, "/stat: no start time"));
  }
  return ticks;
}

namespace {

absl::StatusOr<std::string> ReadExeLink(int pid) {
  char buf[PATH_MAX];
  const std::string link = absl::StrCat("/proc/", pid, "/exe");
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n < 0) {
    if (errno == ENOENT) {
      // No such process, a process exiting (its memory already released)
      // or exited but not reaped (a zombie), or a kernel thread: none has
      // an executable. The task flags tell a kernel thread from a process
      // on its way out, which is not yet a zombie.
      if (access(absl::StrCat("/proc/", pid).c_str(), F_OK) == 0) {
        std::vector<std::string> f = StatFields(pid);
        uint64_t flags = 0;
        if (f.size() > 6 && absl::SimpleAtoi(f[6], &flags) &&
            (flags & kPfKthread) != 0 && (flags & kPfExiting) == 0) {
          return absl::FailedPreconditionError(absl::StrCat(
              "pid ", pid, " is a kernel thread, not a Go process"));
        }
        return absl::NotFoundError(
            absl::StrCat("pid ", pid, " has exited (not yet reaped)"));
      }
      return absl::NotFoundError(
          absl::StrCat("pid ", pid, ": no such process"));
    }
    if (errno == EACCES || errno == EPERM) {
      return absl::PermissionDeniedError(absl::StrCat(
          "pid ", pid, ": cannot read /proc/", pid, "/exe: ", strerror(errno),
          " (gspyd needs CAP_SYS_PTRACE)"));
    }
    return absl::NotFoundError(
        absl::StrCat("pid ", pid, ": ", strerror(errno)));
  }
  buf[n] = '\0';
  return std::string(buf);
}

}  // namespace

bool ProcessRunning(int pid) {
  const char state = ProcessState(pid);
  return state != '?' && state != 'Z' && state != 'X';
}

std::vector<int> ListPids() {
  std::vector<int> pids;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return pids;
  while (dirent* e = readdir(dir)) {
    int pid;
    if (absl::SimpleAtoi(e->d_name, &pid) && pid > 0) pids.push_back(pid);
  }
  closedir(dir);
  std::sort(pids.begin(), pids.end());
  return pids;
}

absl::StatusOr<GoProcess> ProcessTable::InspectBinary(int pid) const {
  if (pid <= 0) {
    return absl::NotFoundError(absl::StrCat("pid ", pid, ": no such process"));
  }
  absl::StatusOr<std::string> exe = ReadExeLink(pid);
  if (!exe.ok()) return exe.status();
  GoProcess proc;
  proc.pid = pid;
  proc.exe_path = *exe;
  proc.comm = ReadComm(pid);
  FileIdentity identity;
  // Through /proc/PID/exe: works for processes in other mount namespaces
  // (containers) and for binaries deleted or replaced on disk.
  absl::StatusOr<std::shared_ptr<const GoBinary>> binary =
      cache_->Get(absl::StrCat("/proc/", pid, "/exe"), &identity);
  if (!binary.ok()) {
    if (absl::IsNotFound(binary.status())) {
      return absl::NotFoundError(
          absl::StrCat("pid ", pid, ": no such process"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "pid ", pid, " (", proc.exe_path, "): ", binary.status().message()));
  }
  proc.binary = *binary;
  proc.exe_inode = identity.inode;
  if (labeler_ != nullptr) proc.metadata = labeler_->MetadataFor(pid);
  return proc;
}

absl::StatusOr<GoProcess> ProcessTable::Inspect(int pid) const {
  absl::StatusOr<GoProcess> proc = InspectBinary(pid);
  if (!proc.ok()) return proc.status();
  const absl::StatusOr<RuntimeLayout>& layout = proc->binary->runtime_layout();
  if (!layout.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pid ", pid, " (", proc->exe_path, "): ", layout.status().message()));
  }
  absl::StatusOr<std::vector<MemoryMapping>> maps = ReadProcMaps(pid);
  if (!maps.ok()) return maps.status();
  proc->mappings = *std::move(maps);
  std::optional<uint64_t> bias = ComputeLoadBias(
      proc->mappings, proc->exe_inode, proc->binary->segments());
  if (!bias.has_value()) {
    // A process on its way out has released its memory: no mappings at all.
    if (proc->mappings.empty() || !ProcessRunning(pid)) {
      return absl::NotFoundError(absl::StrCat("pid ", pid, " has exited"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "pid ", pid, " (", proc->exe_path,
        "): the executable is not mapped in /proc/", pid, "/maps"));
  }
  proc->load_bias = *bias;
  return proc;
}

std::vector<GoProcess> ProcessTable::ListGoProcesses(
    std::vector<ProcessProblem>* problems) const {
  std::vector<GoProcess> out;
  const int self = getpid();
  for (int pid : ListPids()) {
    if (pid == self) continue;
    absl::StatusOr<GoProcess> proc = InspectBinary(pid);
    if (!proc.ok()) continue;  // gone, kernel thread or not Go
    if (!proc->binary->runtime_layout().ok()) {
      if (problems != nullptr) {
        problems->push_back(
            {pid, proc->exe_path, proc->binary->runtime_layout().status()});
      }
      continue;
    }
    out.push_back(*std::move(proc));
  }
  return out;
}

}  // namespace gspy
