#include "golang/process/binary_cache.h"

#include <malloc.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gspy {

absl::StatusOr<std::shared_ptr<const GoBinary>> BinaryCache::Get(
    const std::string& path, FileIdentity* identity) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(path, ": ", strerror(errno)));
  }
  FileIdentity id{static_cast<uint64_t>(st.st_dev),
                  static_cast<uint64_t>(st.st_ino),
                  static_cast<int64_t>(st.st_size),
                  static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                      st.st_mtim.tv_nsec};
  if (identity != nullptr) *identity = id;
  {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(id);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      it->second->last_used = absl::Now();
      Binary found = it->second->binary;
      TrimLocked(absl::Now());
      return found;
    }
  }
  // Parse outside the lock: a large binary takes a while, and other lookups
  // should not wait for it. Two racing parses of one file are harmless.
  Binary entry = [&]() -> Binary {
    absl::StatusOr<std::unique_ptr<GoBinary>> bin = GoBinary::Open(path);
    if (!bin.ok()) return bin.status();
    return std::shared_ptr<const GoBinary>(*std::move(bin));
  }();
  absl::MutexLock lock(&mu_);
  if (auto it = index_.find(id); it != index_.end()) return it->second->binary;
  lru_.push_front(Entry{id, entry, absl::Now()});
  index_[id] = lru_.begin();
  // The caller's copy keeps the new binary from being trimmed right away.
  TrimLocked(absl::Now());
  return entry;
}

void BinaryCache::Trim(absl::Time now) {
  absl::MutexLock lock(&mu_);
  TrimLocked(now);
}

void BinaryCache::TrimLocked(absl::Time now) {
  // Sizes change as binaries are used (ranges read in, caches filled).
  bytes_ = 0;
  for (const Entry& e : lru_) {
    if (e.binary.ok()) bytes_ += (*e.binary)->memory_bytes();
  }
  auto drop = [&](std::list<Entry>::iterator it) {
    if (it->binary.ok()) bytes_ -= (*it->binary)->memory_bytes();
    index_.erase(it->id);
    return lru_.erase(it);
  };
  const size_t before = lru_.size();
  // Oldest first, so the least recently used go before the others.
  for (auto it = lru_.end(); it != lru_.begin();) {
    --it;
    // use_count 1: only this cache holds it, no process uses it.
    const bool unheld = !it->binary.ok() || it->binary->use_count() == 1;
    const bool idle = now - it->last_used >= options_.idle;
    if (lru_.size() > options_.capacity ||
        (unheld && (idle || bytes_ > options_.max_bytes))) {
      it = drop(it);
    }
  }
  // A dropped binary's heap (name index, strings) is freed into glibc's
  // arenas, which keep it unless asked; at most every `idle`, give it back
  // so RSS returns to its baseline once the churn stops.
  if (lru_.size() < before && now - last_trim_ >= options_.idle) {
    last_trim_ = now;
    malloc_trim(0);
  }
}

size_t BinaryCache::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

size_t BinaryCache::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace gspy
