#include "daemon/sources/cpu/perf_events.h"

#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

int PerfEventOpen(perf_event_attr* attr, int cpu) {
  return static_cast<int>(syscall(SYS_perf_event_open, attr, /*pid=*/-1, cpu,
                                  /*group_fd=*/-1, PERF_FLAG_FD_CLOEXEC));
}

}  // namespace

absl::StatusOr<PerfEventSet> PerfEventSet::OpenCpuClock(bpf_program* program,
                                                        int frequency_hz) {
  PerfEventSet set;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return absl::InternalError("cannot count possible CPUs");
  for (int cpu = 0; cpu < cpus; ++cpu) {
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.freq = 0;
    attr.sample_period = 1'000'000'000ULL / static_cast<uint64_t>(frequency_hz);
    attr.disabled = 1;
    int fd = PerfEventOpen(&attr, cpu);
    if (fd < 0) {
      // Possible but offline CPUs cannot be opened; skip them.
      if (errno == ENODEV) continue;
      return absl::PermissionDeniedError(absl::StrCat(
          "perf_event_open(cpu-clock, cpu ", cpu, "): ", strerror(errno),
          " (needs root or CAP_PERFMON, and a kernel with "
          "perf software events)"));
    }
    set.fds_.push_back(fd);
    bpf_link* link = bpf_program__attach_perf_event(program, fd);
    if (link == nullptr) {
      return absl::InternalError(absl::StrCat(
          "attaching the CPU sampler to cpu ", cpu, ": ", strerror(errno)));
    }
    set.links_.push_back(link);
  }
  if (set.fds_.empty()) return absl::InternalError("no online CPU to sample");
  // libbpf's attach enables each event (PERF_EVENT_IOC_ENABLE) whatever
  // attr.disabled says: turn them off again, they run only while a pull
  // needs them. Left on, an idle gspyd took 15% of the throughput of an
  // HTTP server (bench/http_overhead.sh).
  if (absl::Status s = set.SetEnabled(false); !s.ok()) return s;
  return set;
}

PerfEventSet::PerfEventSet(PerfEventSet&& other) noexcept
    : fds_(std::move(other.fds_)), links_(std::move(other.links_)) {
  other.fds_.clear();
  other.links_.clear();
}

PerfEventSet& PerfEventSet::operator=(PerfEventSet&& other) noexcept {
  if (this != &other) {
    Close();
    fds_ = std::move(other.fds_);
    links_ = std::move(other.links_);
    other.fds_.clear();
    other.links_.clear();
  }
  return *this;
}

PerfEventSet::~PerfEventSet() { Close(); }

void PerfEventSet::Close() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  for (int fd : fds_) close(fd);
  links_.clear();
  fds_.clear();
}

absl::Status PerfEventSet::SetEnabled(bool enabled) {
  for (int fd : fds_) {
    if (ioctl(fd, enabled ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE,
              0) != 0) {
      return absl::InternalError(
          absl::StrCat("perf event ioctl: ", strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace gspy

namespace gspy {

absl::Status PerfEventSet::SetPeriodNs(uint64_t period_ns) {
  for (int fd : fds_) {
    if (ioctl(fd, PERF_EVENT_IOC_PERIOD, &period_ns) != 0) {
      return absl::InternalError(absl::StrCat(
          "perf event ioctl(PERIOD, ", period_ns, " ns): ", strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace gspy
