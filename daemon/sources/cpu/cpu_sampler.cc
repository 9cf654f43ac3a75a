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
  sampler->ring_ =
      ring_buffer__new(bpf_map__fd(sampler->skel_->maps.samples),
                       &CpuSampler::OnSample, sampler.get(), nullptr);
  if (sampler->ring_ == nullptr) {
    return absl::InternalError(absl::StrCat("ring buffer: ", strerror(errno)));
  }
  absl::StatusOr<PerfEventSet> events = PerfEventSet::OpenCpuClock(
      sampler->skel_->progs.sample_cpu, frequency_hz);
  if (!events.ok()) return events.status();
  sampler->events_ = std::make_unique<PerfEventSet>(*std::move(events));
  sampler->poller_ = std::thread([s = sampler.get()] { s->PollLoop(); });
  return sampler;
}

CpuSampler::~CpuSampler() {
  {
    absl::MutexLock lock(&mu_);  // wakes the poller's wait
    stop_ = true;
  }
  if (poller_.joinable()) poller_.join();
  events_.reset();
  if (ring_ != nullptr) ring_buffer__free(ring_);
  if (skel_ != nullptr) cpu_sampler_bpf__destroy(skel_);
}

int CpuSampler::OnSample(void* ctx, void* data, size_t size) {
  auto* self = static_cast<CpuSampler*>(ctx);
  constexpr size_t kHeader = offsetof(gspy_cpu_sample, frames);
  if (size < kHeader) return 0;
  // The record may be shorter than the struct: copy into a full-size one so
  // the sink never reads past the record.
  gspy_cpu_sample sample;
  std::memcpy(&sample, data, std::min(size, sizeof(sample)));
  size_t frames = (std::min(size, sizeof(sample)) - kHeader) / 8;
  if (sample.user_depth > frames) sample.user_depth = frames;
  if (sample.user_depth + sample.kernel_depth > frames) {
    sample.kernel_depth = frames - sample.user_depth;
  }
  self->sink_(sample);
  return 0;
}

// Drains the ring every 50 ms while some pid is sampled, and sleeps
// otherwise: an idle daemon must not wake up (on a small VM ~200 wakeups a
// second of gspyd cost an HTTP server on the next CPU 10% of its
// throughput), and the BPF side sends no wakeup per sample for the same
// reason.
void CpuSampler::PollLoop() {
  while (!stop_) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &CpuSampler::ActiveOrStopping));
    }
    absl::SleepFor(absl::Milliseconds(50));
    Flush();
  }
  Flush();
}

void CpuSampler::Flush() {
  absl::MutexLock lock(&ring_mu_);
  ring_buffer__consume(ring_);
}

absl::Status CpuSampler::WriteTarget(uint32_t pid,
                                     const gspy_target_config& config) {
  if (bpf_map__update_elem(skel_->maps.targets, &pid, sizeof(pid), &config,
                           sizeof(config), BPF_ANY) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("adding pid ", pid, " to the sampler: ", strerror(errno)));
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
  if (was_idle) return events_->SetEnabled(true);
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
  bpf_map__delete_elem(skel_->maps.targets, &pid, sizeof(pid), 0);
  holders_.erase(it);
  if (holders_.empty()) (void)events_->SetEnabled(false);
}

SamplerCounters CpuSampler::ReadCounters() const {
  return PerCpuCounters(skel_->maps.counters).Read<SamplerCounters>();
}

}  // namespace gspy
