#include "daemon/sources/cpu/sampled_pids.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace gspy {

absl::Status SampledPids::Write(uint32_t pid,
                                const gspy_target_config& config) {
  if (const int err = targets_->Put(pid, config); err != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("adding pid ", pid, " to the sampler: ", strerror(err)));
  }
  return absl::OkStatus();
}

absl::Status SampledPids::Acquire(uint32_t pid,
                                  const gspy_target_config& config) {
  Holder& holder = holders_[pid];
  const bool wants_kernel = config.want_kernel_stack != 0;
  if (holder.refs == 0 || (wants_kernel && holder.kernel_stack_refs == 0)) {
    holder.config = config;
    holder.config.want_kernel_stack =
        (wants_kernel || holder.kernel_stack_refs > 0) ? 1 : 0;
    if (absl::Status s = Write(pid, holder.config); !s.ok()) {
      if (holder.refs == 0) holders_.erase(pid);
      return s;
    }
  }
  ++holder.refs;
  if (wants_kernel) ++holder.kernel_stack_refs;
  return absl::OkStatus();
}

void SampledPids::Release(uint32_t pid, bool wanted_kernel_stack) {
  auto it = holders_.find(pid);
  if (it == holders_.end()) return;
  Holder& holder = it->second;
  if (wanted_kernel_stack && holder.kernel_stack_refs > 0) {
    if (--holder.kernel_stack_refs == 0 && holder.refs > 1) {
      holder.config.want_kernel_stack = 0;
      (void)Write(pid, holder.config);
    }
  }
  if (--holder.refs > 0) return;
  targets_->Erase(pid);
  holders_.erase(it);
}

}  // namespace gspy
