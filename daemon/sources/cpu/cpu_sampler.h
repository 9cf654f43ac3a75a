// CpuSampler: the loaded CPU-sampling BPF program, its perf events and the
// thread that drains its ring buffer. Samples are taken only for the pids the
// daemon selected (reference counted, so concurrent pulls share one program).
#ifndef GSPY_DAEMON_SOURCES_CPU_CPU_SAMPLER_H_
#define GSPY_DAEMON_SOURCES_CPU_CPU_SAMPLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "bpf/gspy_types.h"
#include "daemon/sources/cpu/perf_events.h"
#include "daemon/sources/cpu/sampled_pids.h"
#include "daemon/sources/kernel/bpf_map.h"
#include "daemon/sources/kernel/counter_table.h"
#include "daemon/sources/kernel/ring_reader.h"

struct cpu_sampler_bpf;

namespace gspy {

GSPY_COUNTERS_STRUCT(SamplerCounters, GSPY_CPU_COUNTERS);

class CpuSampler {
 public:
  // Called on the sampler's thread for every sample; `size` bytes are valid
  // (the frames array holds only user_depth + kernel_depth entries).
  using SampleSink = std::function<void(const gspy_cpu_sample& sample)>;

  // `ring_bytes`: the size of the ring buffer the BPF program writes the
  // samples to (a power of two of at least a page); 0 keeps the program's
  // own (8 MiB, bpf/cpu_sampler.bpf.c). Samples that find it full are lost
  // (gspy_cpu_samples_lost_total; gspyd backs off).
  static absl::StatusOr<std::unique_ptr<CpuSampler>> Start(
      int frequency_hz, SampleSink sink, uint32_t ring_bytes = 0);
  ~CpuSampler();

  // Starts sampling `pid` with `config` (or bumps its reference count; the
  // kernel-stack wish is ORed across holders). Release undoes one Acquire.
  absl::Status Acquire(uint32_t pid, const gspy_target_config& config);
  void Release(uint32_t pid, bool wanted_kernel_stack);

  // Delivers every sample already in the ring buffer (the thread drains it
  // every 50 ms: the BPF side does not wake it per sample).
  void Flush();

  SamplerCounters ReadCounters() const;
  // The configured frequency (--cpu-hz): the most the sampler runs at.
  int frequency_hz() const { return frequency_hz_; }
  // The frequency and period in force now, lowered by SetScale.
  int effective_frequency_hz() const { return effective_hz_.load(); }
  int64_t period_ns() const { return 1'000'000'000 / effective_hz_.load(); }

  // Samples at max(1, round(frequency_hz * scale)) Hz from now on, scale in
  // (0, 1] (gspyd's back-off). The events keep running; each sample carries
  // the period it was taken at, so profiles spanning the change stay honest.
  absl::Status SetScale(double scale);

 private:
  CpuSampler(int frequency_hz, SampleSink sink);
  void OnSample(const void* data, size_t size);

  absl::Status SetFrequency(int hz);

  const int frequency_hz_;
  std::atomic<int> effective_hz_;
  const SampleSink sink_;
  cpu_sampler_bpf* skel_ = nullptr;
  std::unique_ptr<BpfMap> targets_;
  std::unique_ptr<RingReader> ring_;
  std::unique_ptr<PerfEventSet> events_;

  mutable absl::Mutex mu_;
  std::unique_ptr<SampledPids> pids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_CPU_CPU_SAMPLER_H_
