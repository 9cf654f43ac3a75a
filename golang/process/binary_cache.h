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
#include "absl/time/clock.h"
#include "absl/time/time.h"
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

// Bounded three ways, so memory stays flat under process churn (a CI node
// runs hundreds of short-lived binaries a minute):
//  - entries: at most `capacity`;
//  - bytes: binaries no process holds any more (only the cache references
//    them) are dropped, least recently used first, while the total memory of
//    the cached binaries exceeds `max_bytes`;
//  - time: such unheld binaries, and remembered errors, are dropped once
//    unused for `idle`, so memory returns to its baseline after the churn.
// A binary still held by a process (a GoProcess, a profile session) is never
// dropped for size: dropping it would free nothing.
class BinaryCache {
 public:
  struct Options {
    size_t capacity = 256;
    size_t max_bytes = size_t{64} << 20;
    absl::Duration idle = absl::Seconds(30);
  };
  BinaryCache() : BinaryCache(Options()) {}
  explicit BinaryCache(size_t capacity)
      : BinaryCache(Options{.capacity = capacity}) {}
  explicit BinaryCache(Options options) : options_(options) {}

  // The binary at `path` (e.g. "/proc/PID/exe", which reaches into the
  // process's mount namespace). Errors are those of GoBinary::Open.
  absl::StatusOr<std::shared_ptr<const GoBinary>> Get(const std::string& path,
                                                      FileIdentity* identity);

  // Drops what the bounds above say should go, as of `now`. Get trims too;
  // callers may trim when nothing calls Get for a while.
  void Trim(absl::Time now = absl::Now());

  size_t size() const;
  // Memory of the cached binaries (GoBinary::memory_bytes), as last seen.
  size_t bytes() const;

 private:
  using Binary = absl::StatusOr<std::shared_ptr<const GoBinary>>;
  struct Entry {
    FileIdentity id;
    Binary binary;
    absl::Time last_used;
  };
  void TrimLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  // Most recently used at the front.
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<FileIdentity, std::list<Entry>::iterator> index_
      ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_trim_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace gspy

#endif  // GSPY_GOLANG_PROCESS_BINARY_CACHE_H_
