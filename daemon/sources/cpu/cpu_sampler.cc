#include "daemon/sources/cpu/cpu_sampler.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bpf/cpu_sampler.skel.h"
#include "daemon/sources/kernel/per_cpu_counters.h"

namespace gspy {

CpuSampler::CpuSampler(int frequency_hz, SampleSink sink)
    : frequency_hz_(frequency_hz),
      effective_hz_(frequency_hz),
      sink_(std::move(sink)) {}

absl::StatusOr<std::unique_ptr<CpuSampler>> CpuSampler::Start(
    int frequency_hz, SampleSink sink, uint32_t ring_bytes) {
  if (frequency_hz < 1 || frequency_hz > 10000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sampling frequency ", frequency_hz, " Hz is outside [1, 10000]"));
  }
  const auto page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  if (ring_bytes != 0 &&
      (ring_bytes < page || (ring_bytes & (ring_bytes - 1)) != 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("CPU sample ring of ", ring_bytes,
                     " bytes: the kernel wants a power of two of at least "
                     "a page (",
                     page, ")"));
  }
  std::unique_ptr<CpuSampler> sampler(
      new CpuSampler(frequency_hz, std::move(sink)));
  PossibleCpus();  // before any thread of ours reads a counter
  sampler->skel_ = cpu_sampler_bpf__open();
  if (sampler->skel_ != nullptr && ring_bytes != 0 &&
      bpf_map__set_max_entries(sampler->skel_->maps.samples, ring_bytes) != 0) {
    return absl::InternalError(
        absl::StrCat("sizing the CPU sample ring: ", strerror(errno)));
  }
  if (sampler->skel_ != nullptr && cpu_sampler_bpf__load(sampler->skel_) != 0) {
    cpu_sampler_bpf__destroy(sampler->skel_);
    sampler->skel_ = nullptr;
  }
  if (sampler->skel_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "loading the CPU sampler BPF program failed: ", strerror(errno),
        " (needs root or CAP_BPF+CAP_PERFMON, and a kernel with BTF at "
        "/sys/kernel/btf/vmlinux; libbpf's log above says more)"));
  }
  sampler->skel_->bss->period_ns =
      static_cast<uint32_t>(1'000'000'000 / frequency_hz);
  sampler->targets_ = std::make_unique<LibbpfMap>(sampler->skel_->maps.targets);
  {
    absl::MutexLock lock(&sampler->mu_);
    sampler->pids_ = std::make_unique<SampledPids>(sampler->targets_.get());
  }
  // Drained every 50 ms: the BPF side sends no wakeup per sample.
  absl::StatusOr<std::unique_ptr<RingReader>> ring = RingReader::Open(
      bpf_map__fd(sampler->skel_->maps.samples), absl::Milliseconds(50),
      [s = sampler.get()](const void* data, size_t size) {
        s->OnSample(data, size);
      });
  if (!ring.ok()) return ring.status();
  sampler->ring_ = *std::move(ring);
  absl::StatusOr<PerfEventSet> events = PerfEventSet::OpenCpuClock(
      sampler->skel_->progs.sample_cpu, frequency_hz);
  if (!events.ok()) return events.status();
  sampler->events_ = std::make_unique<PerfEventSet>(*std::move(events));
  return sampler;
}

CpuSampler::~CpuSampler() {
  ring_.reset();  // stops delivering samples first
  events_.reset();
  {
    absl::MutexLock lock(&mu_);
    pids_.reset();
  }
  targets_.reset();
  if (skel_ != nullptr) cpu_sampler_bpf__destroy(skel_);
}

void CpuSampler::OnSample(const void* data, size_t size) {
  constexpr size_t kHeader = offsetof(gspy_cpu_sample, frames);
  if (size < kHeader) return;
  // The record may be shorter than the struct: copy into a full-size one so
  // the sink never reads past the record.
  gspy_cpu_sample sample;
  std::memcpy(&sample, data, std::min(size, sizeof(sample)));
  size_t frames = (std::min(size, sizeof(sample)) - kHeader) / 8;
  if (sample.user_depth > frames) sample.user_depth = frames;
  if (sample.user_depth + sample.kernel_depth > frames) {
    sample.kernel_depth = frames - sample.user_depth;
  }
  sink_(sample);
}

void CpuSampler::Flush() { ring_->Flush(); }

absl::Status CpuSampler::SetScale(double scale) {
  if (!(scale > 0)) scale = 0;
  if (scale > 1) scale = 1;
  const int hz =
      std::max(1, static_cast<int>(std::lround(frequency_hz_ * scale)));
  return SetFrequency(hz);
}

absl::Status CpuSampler::SetFrequency(int hz) {
  absl::MutexLock lock(&mu_);  // one change at a time
  if (hz == effective_hz_.load()) return absl::OkStatus();
  const uint32_t period = static_cast<uint32_t>(1'000'000'000 / hz);
  // The samples' label first: those taken between the two writes (a few
  // microseconds) carry the new period at the old rate.
  skel_->bss->period_ns = period;
  if (absl::Status s = events_->SetPeriodNs(period); !s.ok()) {
    skel_->bss->period_ns =
        static_cast<uint32_t>(1'000'000'000 / effective_hz_.load());
    return s;
  }
  effective_hz_.store(hz);
  return absl::OkStatus();
}

absl::Status CpuSampler::Acquire(uint32_t pid,
                                 const gspy_target_config& config) {
  absl::MutexLock lock(&mu_);
  const bool was_idle = pids_->empty();
  if (absl::Status s = pids_->Acquire(pid, config); !s.ok()) return s;
  if (was_idle) {
    ring_->SetActive(true);
    return events_->SetEnabled(true);
  }
  return absl::OkStatus();
}

void CpuSampler::Release(uint32_t pid, bool wanted_kernel_stack) {
  absl::MutexLock lock(&mu_);
  if (pids_->empty()) return;
  pids_->Release(pid, wanted_kernel_stack);
  if (pids_->empty()) {
    (void)events_->SetEnabled(false);
    ring_->SetActive(false);
  }
}

SamplerCounters CpuSampler::ReadCounters() const {
  return PerCpuCounters(skel_->maps.counters).Read<SamplerCounters>();
}

}  // namespace gspy
