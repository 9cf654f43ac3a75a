#include "daemon/aggregation/cpu_sessions.h"

#include <algorithm>
#include <utility>

namespace gspy {

gspy_target_config TargetConfigFor(const RuntimeLayout& layout,
                                   bool kernel_stacks) {
  gspy_target_config c{};
  c.tls_g_offset = layout.tls_g_offset;
  c.g_m = static_cast<uint32_t>(layout.g_m);
  c.g_goid = static_cast<uint32_t>(layout.g_goid);
  c.g_labels = static_cast<uint32_t>(layout.g_labels);
  c.m_curg = static_cast<uint32_t>(layout.m_curg);
  c.labels_layout = layout.labels_layout == LabelsLayout::kSlice
                        ? GSPY_LABELS_SLICE
                        : GSPY_LABELS_MAP;
  c.want_kernel_stack = kernel_stacks ? 1 : 0;
  return c;
}

absl::Status SessionRegistry::Attach(std::shared_ptr<CpuProfile> profile,
                                     const GoProcess& process,
                                     bool kernel_stacks) {
  const absl::StatusOr<RuntimeLayout>& layout =
      process.binary->runtime_layout();
  if (!layout.ok()) return layout.status();
  // Register first so no sample is missed between enabling and routing.
  {
    absl::MutexLock lock(&mu_);
    by_pid_[process.pid].push_back({std::move(profile), kernel_stacks});
  }
  absl::Status s = sampler_->Acquire(static_cast<uint32_t>(process.pid),
                                     TargetConfigFor(*layout, kernel_stacks));
  if (!s.ok()) {
    absl::MutexLock lock(&mu_);
    auto& subs = by_pid_[process.pid];
    subs.pop_back();
    if (subs.empty()) by_pid_.erase(process.pid);
  }
  return s;
}

void SessionRegistry::Detach(const CpuProfile* profile) {
  // The samples still in the ring buffer belong to this profile too.
  if (sampler_ != nullptr) sampler_->Flush();
  std::vector<std::pair<int, bool>> released;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = by_pid_.begin(); it != by_pid_.end();) {
      auto& subs = it->second;
      for (auto s = subs.begin(); s != subs.end();) {
        if (s->profile.get() == profile) {
          released.emplace_back(it->first, s->kernel_stacks);
          s = subs.erase(s);
        } else {
          ++s;
        }
      }
      if (subs.empty()) {
        by_pid_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (auto [pid, kernel] : released) {
    sampler_->Release(static_cast<uint32_t>(pid), kernel);
  }
}

bool SessionRegistry::Replace(const CpuProfile* old,
                              std::shared_ptr<CpuProfile> fresh) {
  bool found = false;
  absl::MutexLock lock(&mu_);
  for (auto& [pid, subs] : by_pid_) {
    for (Subscription& s : subs) {
      if (s.profile.get() == old) {
        s.profile = fresh;
        found = true;
      }
    }
  }
  return found;
}

void SessionRegistry::Route(const gspy_cpu_sample& sample) {
  std::vector<std::shared_ptr<CpuProfile>> targets;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_pid_.find(static_cast<int>(sample.pid));
    if (it == by_pid_.end()) return;
    for (const Subscription& s : it->second) targets.push_back(s.profile);
  }
  for (const auto& profile : targets) profile->Add(sample);
}

}  // namespace gspy
