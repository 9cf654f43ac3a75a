#include "daemon/sources/kernel/uprobe_set.h"

#include <bpf/libbpf.h>

#include <utility>

namespace gspy {

void DestroyLinks(const std::vector<bpf_link*>& links) {
  for (bpf_link* l : links) bpf_link__destroy(l);
}

void UprobeSet::Clear() {
  for (auto& [key, e] : processes_) DestroyLinks(e.links);
  processes_.clear();
}

absl::Status UprobeSet::Acquire(std::shared_ptr<const GoBinary> binary, int pid,
                                AttachFn attach) {
  const Key key(binary.get(), pid);
  auto it = processes_.find(key);
  if (it == processes_.end()) {
    absl::StatusOr<Links> links = attach();
    if (!links.ok()) return links.status();
    it = processes_.emplace(key, Entry{std::move(binary), *std::move(links), 0})
             .first;
  }
  ++it->second.refs;
  return absl::OkStatus();
}

void UprobeSet::Release(const GoBinary* binary, int pid) {
  auto it = processes_.find(Key(binary, pid));
  if (it == processes_.end() || --it->second.refs > 0) return;
  DestroyLinks(it->second.links);
  processes_.erase(it);
}

UprobeSet::Links UprobeSet::TakeAllLinks() {
  Links out;
  for (auto& [key, e] : processes_) {
    out.insert(out.end(), e.links.begin(), e.links.end());
    e.links.clear();
  }
  return out;
}

void UprobeSet::AttachDetached(
    absl::FunctionRef<absl::StatusOr<Links>(const GoBinary*, int pid)> attach) {
  for (auto& [key, e] : processes_) {
    if (!e.links.empty()) continue;
    absl::StatusOr<Links> links = attach(key.first, key.second);
    if (links.ok()) e.links = *std::move(links);
  }
}

int UprobeSet::refs(const GoBinary* binary, int pid) const {
  auto it = processes_.find(Key(binary, pid));
  return it == processes_.end() ? 0 : it->second.refs;
}

bool UprobeSet::attached(const GoBinary* binary, int pid) const {
  auto it = processes_.find(Key(binary, pid));
  return it != processes_.end() && !it->second.links.empty();
}

}  // namespace gspy
