// Per-CPU cpu-clock perf events, the clock that drives the CPU sampler.
#ifndef GSPY_DAEMON_SOURCES_CPU_PERF_EVENTS_H_
#define GSPY_DAEMON_SOURCES_CPU_PERF_EVENTS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

struct bpf_link;
struct bpf_program;

namespace gspy {

// One software cpu-clock event per online CPU, each with `program`
// attached, sampling every `1e9 / frequency_hz` ns of CPU time. The kernel
// turns a cpu-clock frequency into a fixed period anyway (hrtimers have a
// fixed rate); asking for the period says what SetPeriodNs changes. Closing
// the fds and links on destruction detaches.
class PerfEventSet {
 public:
  static absl::StatusOr<PerfEventSet> OpenCpuClock(bpf_program* program,
                                                   int frequency_hz);
  PerfEventSet(PerfEventSet&& other) noexcept;
  PerfEventSet& operator=(PerfEventSet&& other) noexcept;
  PerfEventSet(const PerfEventSet&) = delete;
  PerfEventSet& operator=(const PerfEventSet&) = delete;
  ~PerfEventSet();

  // Starts or stops every event (PERF_EVENT_IOC_ENABLE / DISABLE), so the
  // program costs nothing while no profile is being taken.
  absl::Status SetEnabled(bool enabled);
  // Changes the sampling period of every event in place
  // (PERF_EVENT_IOC_PERIOD): the events stay attached and enabled as they
  // were; the timer restarts with the new period.
  absl::Status SetPeriodNs(uint64_t period_ns);
  int cpu_count() const { return static_cast<int>(fds_.size()); }

 private:
  PerfEventSet() = default;
  void Close();

  std::vector<int> fds_;
  std::vector<bpf_link*> links_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_CPU_PERF_EVENTS_H_
