#include "daemon/capture/capture_cooldowns.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"

namespace gspy {

void CaptureCooldowns::Restore(const std::vector<gspy::v1::CaptureInfo>& stored,
                               const std::vector<std::string>& rules) {
  const absl::flat_hash_set<std::string> configured(rules.begin(), rules.end());
  for (const gspy::v1::CaptureInfo& info : stored) {
    // Captures of an older gspyd do not name the process for good.
    if (info.process_start_ticks() == 0 || !configured.contains(info.rule())) {
      continue;
    }
    const Key key{info.rule(), info.pid(), info.process_start_ticks()};
    const absl::Time at = absl::FromUnixNanos(info.unix_nanos());
    auto [it, added] = last_.emplace(key, at);
    if (!added) it->second = std::max(it->second, at);
  }
}

bool CaptureCooldowns::Within(const std::string& rule, int pid,
                              uint64_t start_ticks, absl::Time at) const {
  auto it = last_.find(Key{rule, pid, start_ticks});
  // A firing "after" `at` (the clock stepped back) counts as within.
  return it != last_.end() && at - it->second < cooldown_;
}

void CaptureCooldowns::Fired(const std::string& rule, int pid,
                             uint64_t start_ticks, absl::Time at) {
  Prune(at);
  last_[Key{rule, pid, start_ticks}] = at;
}

void CaptureCooldowns::Prune(absl::Time now) {
  for (auto it = last_.begin(); it != last_.end();) {
    it = now - it->second >= cooldown_ ? last_.erase(it) : std::next(it);
  }
}

}  // namespace gspy
