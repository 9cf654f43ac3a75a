#include "daemon/backoff/heap_release.h"

#include <malloc.h>

#include <cstdlib>

namespace gspy {

void TuneAllocator(int arenas) {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) {
    mallopt(M_ARENA_MAX, arenas);
  }
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) {
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
  }
}

bool HeapReleaser::MaybeRelease(absl::Time now) {
  if (now - last_ < interval_) return false;
  last_ = now;
  malloc_trim(0);
  return true;
}

}  // namespace gspy
