#include "daemon/sources/probes/uprobes.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace gspy {

absl::StatusOr<uint64_t> FileOffset(const GoBinary& binary, uint64_t vaddr) {
  for (const LoadSegment& s : binary.segments()) {
    if (vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) {
      return vaddr - s.vaddr + s.offset;
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "address 0x", absl::Hex(vaddr), " is in no loadable segment"));
}

absl::StatusOr<std::string> ReadFileAt(const std::string& path, uint64_t offset,
                                       size_t size) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat(path, ": ", strerror(errno)));
  }
  std::string out(size, '\0');
  const ssize_t n = pread(fd, out.data(), size, static_cast<off_t>(offset));
  close(fd);
  if (n != static_cast<ssize_t>(size)) {
    return absl::DataLossError(
        absl::StrCat(path, ": short read of ", size, " bytes"));
  }
  return out;
}

absl::StatusOr<FuncInfo> FindProbedFunction(const GoProcess& proc,
                                            const char* function) {
  std::optional<FuncInfo> fn = proc.binary->FindFunctionByName(function);
  if (!fn.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the Go runtime of pid ", proc.pid, " (",
                     proc.binary->build_info().go_version, ") has no function ",
                     function, " to probe"));
  }
  return *fn;
}

absl::StatusOr<bpf_link*> AttachUprobe(bpf_program* program,
                                       const GoProcess& proc, uint64_t vaddr,
                                       const char* what) {
  absl::StatusOr<uint64_t> off = FileOffset(*proc.binary, vaddr);
  if (!off.ok()) return off.status();
  const std::string path = absl::StrCat("/proc/", proc.pid, "/exe");
  LIBBPF_OPTS(bpf_uprobe_opts, opts);
  opts.retprobe = false;
  bpf_link* link = bpf_program__attach_uprobe_opts(program, proc.pid,
                                                   path.c_str(), *off, &opts);
  if (link == nullptr) {
    const int err = errno;
    if (err == ENOENT || err == ESRCH) {
      return absl::NotFoundError(absl::StrCat("attaching a uprobe to ", what,
                                              ": pid ", proc.pid, " is gone"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("attaching a uprobe to ", what, " in pid ", proc.pid, ": ",
                     strerror(err)));
  }
  return link;
}

}  // namespace gspy
