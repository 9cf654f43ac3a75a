// ExpiringCache: a map whose entries expire after a time-to-live and whose
// size is bounded, for gspyd's authentication and authorization decisions:
// a decision is reused briefly (a revoked binding takes effect within the
// TTL), and no stream of distinct tokens can grow it without bound.
#ifndef GSPY_DAEMON_AUTH_EXPIRING_CACHE_H_
#define GSPY_DAEMON_AUTH_EXPIRING_CACHE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace gspy {

template <typename Value>
class ExpiringCache {
 public:
  explicit ExpiringCache(size_t max_entries) : max_entries_(max_entries) {}

  // The value stored under `key`, unless absent or expired at `now`.
  std::optional<Value> Get(const std::string& key, absl::Time now) const {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
    return it->second.value;
  }

  // Stores `value` until now + ttl. When full, expired entries go first,
  // then the one closest to expiring.
  void Put(const std::string& key, Value value, absl::Duration ttl,
           absl::Time now) {
    if (max_entries_ == 0 || ttl <= absl::ZeroDuration()) return;
    absl::MutexLock lock(&mu_);
    if (entries_.size() >= max_entries_ && !entries_.contains(key)) {
      absl::erase_if(entries_,
                     [now](const auto& e) { return e.second.expires <= now; });
      if (entries_.size() >= max_entries_) {
        auto soonest = entries_.begin();
        for (auto it = entries_.begin(); it != entries_.end(); ++it) {
          if (it->second.expires < soonest->second.expires) soonest = it;
        }
        entries_.erase(soonest);
      }
    }
    entries_[key] = Entry{std::move(value), now + ttl};
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    Value value;
    absl::Time expires;
  };
  const size_t max_entries_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_AUTH_EXPIRING_CACHE_H_
