#include "daemon/sources/kernel/uprobe_set.h"

#include <bpf/libbpf.h>

#include <utility>

namespace gspy {

void DestroyLinks(const std::vector<bpf_link*>& links) {
  for (bpf_link* l : links) bpf_link__destroy(l);
}

void UprobeSet::Clear() {
  for (auto& [key, e] : binaries_) DestroyLinks(e.links);
  binaries_.clear();
}

absl::Status UprobeSet::Acquire(std::shared_ptr<const GoBinary> binary,
                                AttachFn attach) {
  const GoBinary* key = binary.get();
  auto it = binaries_.find(key);
  if (it == binaries_.end()) {
    absl::StatusOr<Links> links = attach();
    if (!links.ok()) return links.status();
    it = binaries_.emplace(key, Entry{std::move(binary), *std::move(links), 0})
             .first;
  }
  ++it->second.refs;
  return absl::OkStatus();
}

void UprobeSet::Release(const GoBinary* binary) {
  auto it = binaries_.find(binary);
  if (it == binaries_.end() || --it->second.refs > 0) return;
  DestroyLinks(it->second.links);
  binaries_.erase(it);
}

UprobeSet::Links UprobeSet::TakeAllLinks() {
  Links out;
  for (auto& [key, e] : binaries_) {
    out.insert(out.end(), e.links.begin(), e.links.end());
    e.links.clear();
  }
  return out;
}

void UprobeSet::AttachDetached(
    absl::FunctionRef<absl::StatusOr<Links>(const GoBinary*)> attach) {
  for (auto& [key, e] : binaries_) {
    if (!e.links.empty()) continue;
    absl::StatusOr<Links> links = attach(key);
    if (links.ok()) e.links = *std::move(links);
  }
}

int UprobeSet::refs(const GoBinary* binary) const {
  auto it = binaries_.find(binary);
  return it == binaries_.end() ? 0 : it->second.refs;
}

bool UprobeSet::attached(const GoBinary* binary) const {
  auto it = binaries_.find(binary);
  return it != binaries_.end() && !it->second.links.empty();
}

}  // namespace gspy
