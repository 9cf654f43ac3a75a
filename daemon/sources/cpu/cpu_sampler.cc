#include "daemon/sources/cpu/cpu_sampler.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bpf/cpu_sampler.skel.h"
#include "daemon/sources/kernel/per_cpu_counters.h"

namespace gspy {

CpuSampler::CpuSampler(int frequency_hz, SampleSink sink)
    : frequency_hz_(frequency_hz), sink_(std::move(sink)) {}

absl::StatusOr<std::unique_ptr<CpuSampler>> CpuSampler::Start(int frequency_hz,
                                                              SampleSink sink) {
  if (frequency_hz < 1 || frequency_hz > 10000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sampling frequency ", frequency_hz, " Hz is outside [1, 10000]"));
  }
  std::unique_ptr<CpuSampler> sampler(
      new CpuSampler(frequency_hz, std::move(sink)));
  sampler->skel_ = cpu_sampler_bpf__open_and_load();
  if (sampler->skel_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "loading the CPU sampler BPF program failed: ", strerror(errno),
        " (needs root or CAP_BPF+CAP_PERFMON, and a kernel with BTF at "
        "/sys/kernel/btf/vmlinux; libbpf's log above says more)"));
  }
  sampler->targets_ = std::make_unique<LibbpfMap>(sampler->skel_->maps.targets);
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

absl::Status CpuSampler::WriteTarget(uint32_t pid,
                                     const gspy_target_config& config) {
  if (const int err = targets_->Put(pid, config); err != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("adding pid ", pid, " to the sampler: ", strerror(err)));
  }
  return absl::OkStatus();
}

absl::Status CpuSampler::Acquire(uint32_t pid,
                                 const gspy_target_config& config) {
  absl::MutexLock lock(&mu_);
  const bool was_idle = holders_.empty();
  Holder& holder = holders_[pid];
  const bool wants_kernel = config.want_kernel_stack != 0;
  if (holder.refs == 0 || (wants_kernel && holder.kernel_stack_refs == 0)) {
    holder.config = config;
    holder.config.want_kernel_stack =
        (wants_kernel || holder.kernel_stack_refs > 0) ? 1 : 0;
    if (absl::Status s = WriteTarget(pid, holder.config); !s.ok()) {
      if (holder.refs == 0) holders_.erase(pid);
      return s;
    }
  }
  ++holder.refs;
  if (wants_kernel) ++holder.kernel_stack_refs;
  if (was_idle) {
    ring_->SetActive(true);
    return events_->SetEnabled(true);
  }
  return absl::OkStatus();
}

void CpuSampler::Release(uint32_t pid, bool wanted_kernel_stack) {
  absl::MutexLock lock(&mu_);
  auto it = holders_.find(pid);
  if (it == holders_.end()) return;
  Holder& holder = it->second;
  if (wanted_kernel_stack && holder.kernel_stack_refs > 0) {
    if (--holder.kernel_stack_refs == 0 && holder.refs > 1) {
      holder.config.want_kernel_stack = 0;
      (void)WriteTarget(pid, holder.config);
    }
  }
  if (--holder.refs > 0) return;
  targets_->Erase(pid);
  holders_.erase(it);
  if (holders_.empty()) {
    (void)events_->SetEnabled(false);
    ring_->SetActive(false);
  }
}

SamplerCounters CpuSampler::ReadCounters() const {
  return PerCpuCounters(skel_->maps.counters).Read<SamplerCounters>();
}

}  // namespace gspy
