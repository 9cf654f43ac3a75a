#include "golang/process/binary_cache.h"

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
      return it->second->second;
    }
  }
  // Parse outside the lock: a large binary takes a while, and other lookups
  // should not wait for it. Two racing parses of one file are harmless.
  Entry entry = [&]() -> Entry {
    absl::StatusOr<std::unique_ptr<GoBinary>> bin = GoBinary::Open(path);
    if (!bin.ok()) return bin.status();
    return std::shared_ptr<const GoBinary>(*std::move(bin));
  }();
  absl::MutexLock lock(&mu_);
  if (auto it = index_.find(id); it != index_.end()) return it->second->second;
  lru_.emplace_front(id, entry);
  index_[id] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return entry;
}

size_t BinaryCache::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

}  // namespace gspy
