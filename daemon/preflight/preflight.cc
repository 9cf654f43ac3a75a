#include "daemon/preflight/preflight.h"

#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace gspy {
namespace {

constexpr int kCapSysPtrace = 19;
constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

bool Has(uint64_t caps, int cap) { return (caps >> cap) & 1; }

uint64_t ReadCapEff() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v = line;
    if (absl::ConsumePrefix(&v, "CapEff:")) {
      uint64_t caps = 0;
      absl::SimpleHexAtoi(absl::StripAsciiWhitespace(v), &caps);
      return caps;
    }
  }
  return 0;
}

bool TracefsPresent() {
  return access("/sys/kernel/tracing/events", F_OK) == 0 ||
         access("/sys/kernel/debug/tracing/events", F_OK) == 0;
}

}  // namespace

absl::Status PreflightReport::ToStatus() const {
  if (missing.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("gspyd cannot run here: ", absl::StrJoin(missing, "; ")));
}

PreflightReport CheckPreflight(uint64_t cap_eff, bool btf_present,
                               bool tracefs_present) {
  PreflightReport r;
  // CAP_SYS_ADMIN implies BPF and perf events on kernels without the split
  // capabilities.
  const bool admin = Has(cap_eff, kCapSysAdmin);
  if (!admin && !Has(cap_eff, kCapBpf)) {
    r.missing.push_back("CAP_BPF (to load BPF programs)");
  }
  if (!admin && !Has(cap_eff, kCapPerfmon)) {
    r.missing.push_back("CAP_PERFMON (to open cpu-clock perf events)");
  }
  if (!Has(cap_eff, kCapSysPtrace)) {
    r.missing.push_back(
        "CAP_SYS_PTRACE (to read other processes' executables and memory)");
  }
  if (!btf_present) {
    r.missing.push_back(
        "kernel BTF at /sys/kernel/btf/vmlinux (a kernel built with "
        "CONFIG_DEBUG_INFO_BTF=y, 5.8 or newer)");
  }
  if (!tracefs_present) {
    r.warnings.push_back(
        "tracefs is not mounted at /sys/kernel/tracing and could not be "
        "mounted: runtime probes (uprobes) will not attach; CPU profiles work");
  }
  return r;
}

PreflightReport RunPreflight() {
  if (!TracefsPresent()) {
    mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr);
  }
  return CheckPreflight(ReadCapEff(),
                        access("/sys/kernel/btf/vmlinux", R_OK) == 0,
                        TracefsPresent());
}

}  // namespace gspy
