// Per-CPU cpu-clock perf events, the clock that drives the CPU sampler.
#ifndef GSPY_DAEMON_SOURCES_CPU_PERF_EVENTS_H_
#define GSPY_DAEMON_SOURCES_CPU_PERF_EVENTS_H_

#include <vector>

#include "absl/status/statusor.h"

struct bpf_link;
struct bpf_program;

namespace gspy {

// One software cpu-clock event per online CPU, in frequency mode, each with
// `program` attached. Closing the fds and links on destruction detaches.
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
  int cpu_count() const { return static_cast<int>(fds_.size()); }

 private:
  PerfEventSet() = default;
  void Close();

  std::vector<int> fds_;
  std::vector<bpf_link*> links_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_CPU_PERF_EVENTS_H_
