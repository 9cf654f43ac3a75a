// BinaryCache: parsed Go binaries keyed by the file's identity (device,
// inode, size, modification time), so every process of one binary shares one
// GoBinary, and a binary replaced on disk is parsed again. Non-Go binaries
// are remembered too, so scans do not re-read them. Bounded.
#ifndef GSPY_GOLANG_PROCESS_BINARY_CACHE_H_
#define GSPY_GOLANG_PROCESS_BINARY_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "golang/binary/go_binary.h"

namespace gspy {

struct FileIdentity {
  uint64_t dev = 0;
  uint64_t inode = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;

  bool operator==(const FileIdentity&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const FileIdentity& f) {
    return H::combine(std::move(h), f.dev, f.inode, f.size, f.mtime_ns);
  }
};

class BinaryCache {
 public:
  explicit BinaryCache(size_t capacity = 256) : capacity_(capacity) {}

  // The binary at `path` (e.g. "/proc/PID/exe", which reaches into the
  // process's mount namespace). Errors are those of GoBinary::Open.
  absl::StatusOr<std::shared_ptr<const GoBinary>> Get(const std::string& path,
                                                      FileIdentity* identity);

  size_t size() const;

 private:
  using Entry = absl::StatusOr<std::shared_ptr<const GoBinary>>;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  // Most recently used at the front.
  std::list<std::pair<FileIdentity, Entry>> lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<FileIdentity,
                      std::list<std::pair<FileIdentity, Entry>>::iterator>
      index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_GOLANG_PROCESS_BINARY_CACHE_H_
