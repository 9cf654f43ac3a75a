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

absl::StatusOr<Subscription> SessionRegistry::Subscribe(
    const GoProcess& process, std::shared_ptr<CpuProfile> profile,
    bool kernel_stacks) {
  const absl::StatusOr<RuntimeLayout>& layout =
      process.binary->runtime_layout();
  if (!layout.ok()) return layout.status();
  const int pid = process.pid;
  // Register first so no sample is missed between enabling and routing.
  uint64_t id = 0;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
    by_pid_[pid].push_back({id, std::move(profile), kernel_stacks});
  }
  absl::Status s = sampler_->Acquire(static_cast<uint32_t>(pid),
                                     TargetConfigFor(*layout, kernel_stacks));
  if (!s.ok()) {
    absl::MutexLock lock(&mu_);
    auto& routes = by_pid_[pid];
    routes.pop_back();
    if (routes.empty()) by_pid_.erase(pid);
    return s;
  }
  return Subscription([this, pid, id] { Unsubscribe(pid, id); });
}

void SessionRegistry::Unsubscribe(int pid, uint64_t id) {
  // The samples still in the ring buffer belong to this profile too.
  if (sampler_ != nullptr) sampler_->Flush();
  bool kernel_stacks = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_pid_.find(pid);
    if (it == by_pid_.end()) return;
    auto& routes = it->second;
    auto r = std::find_if(routes.begin(), routes.end(),
                          [id](const Routing& r) { return r.id == id; });
    if (r == routes.end()) return;
    kernel_stacks = r->kernel_stacks;
    routes.erase(r);
    if (routes.empty()) by_pid_.erase(it);
  }
  sampler_->Release(static_cast<uint32_t>(pid), kernel_stacks);
}

bool SessionRegistry::Replace(const CpuProfile* old,
                              std::shared_ptr<CpuProfile> fresh) {
  bool found = false;
  absl::MutexLock lock(&mu_);
  for (auto& [pid, routes] : by_pid_) {
    for (Routing& r : routes) {
      if (r.profile.get() == old) {
        r.profile = fresh;
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
    for (const Routing& r : it->second) targets.push_back(r.profile);
  }
  for (const auto& profile : targets) profile->Add(sample);
}

}  // namespace gspy
