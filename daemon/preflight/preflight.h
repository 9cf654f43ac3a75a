// What gspyd needs from the machine, checked at start so that a missing
// privilege or kernel feature is named instead of failing obscurely later.
#ifndef GSPY_DAEMON_PREFLIGHT_PREFLIGHT_H_
#define GSPY_DAEMON_PREFLIGHT_PREFLIGHT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gspy {

struct PreflightReport {
  std::vector<std::string> missing;   // fatal: gspyd cannot run
  std::vector<std::string> warnings;  // some features will not work
  absl::Status ToStatus() const;
};

// Checks capabilities (CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE, or root's full
// set), the kernel's BTF, and tracefs (mounting it when it is missing).
PreflightReport RunPreflight();

// For tests: the checks on given inputs. `cap_eff` is the CapEff mask from
// /proc/self/status.
PreflightReport CheckPreflight(uint64_t cap_eff, bool btf_present,
                               bool tracefs_present);

}  // namespace gspy

#endif  // GSPY_DAEMON_PREFLIGHT_PREFLIGHT_H_
