// A small, bounded, lock-free cache of pc -> symbolized frames in front of
// the pclntab walk: profiles hit the same few thousand pcs again and again.
// 4-way set associative; each slot is a seqlock whose payload is plain
// atomics, so readers never block, never see a torn entry and need no lock.
#ifndef GSPY_GOLANG_BINARY_FRAME_CACHE_H_
#define GSPY_GOLANG_BINARY_FRAME_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "golang/binary/go_binary.h"

namespace gspy::gobinary_internal {

class FrameCache {
 public:
  static constexpr size_t kSetBits = 10;
  static constexpr size_t kWays = 4;  // 4096 slots, 480 KiB
  static constexpr size_t kSlots = kWays << kSetBits;
  static constexpr size_t kMaxFrames = 4;  // longer chains are not cached

  // Frame strings are stored as offsets into `base` (the binary's bytes);
  // frames whose strings lie elsewhere are not cached.
  // The slots are allocated on the first Insert: a binary that is never
  // symbolized (most, on a busy node) costs nothing here.
  explicit FrameCache(std::string_view base);
  ~FrameCache();
  FrameCache(const FrameCache&) = delete;
  FrameCache& operator=(const FrameCache&) = delete;

  // Appends the cached frames of pc to out and returns true on a hit.
  bool Lookup(uint64_t pc, std::vector<Frame>* out) const;
  // Caches frames (the result for pc) if they fit; loses races silently.
  void Insert(uint64_t pc, const Frame* frames, size_t n) const;

  static constexpr size_t MemoryBytes() { return kSlots * sizeof(Slot); }
  // Bytes in use: 0 until the first Insert.
  size_t memory_bytes() const {
    return slots_.load(std::memory_order_relaxed) == nullptr ? 0
                                                             : MemoryBytes();
  }

 private:
  struct Slot {
    std::atomic<uint64_t> seq{0};  // odd while a writer fills the slot
    std::atomic<uint64_t> pc{0};   // 0: empty (pc 0 is never symbolized)
    std::atomic<uint64_t> n{0};
    // Per frame: function (offset << 32 | length), file (same), then
    // line << 32 | start_line << 1 | inlined.
    std::atomic<uint64_t> words[kMaxFrames * 3];
  };
  // The first slot of pc's set.
  // A full 64-bit mix (moremur): a bare multiplicative hash clusters pcs
  // that form arithmetic progressions.
  static size_t SetStart(uint64_t pc) {
    pc ^= pc >> 27;
    pc *= 0x3C79AC492BA7B653ull;
    pc ^= pc >> 33;
    pc *= 0x1C69B3F74AC4AE35ull;
    pc ^= pc >> 27;
    return (pc >> (64 - kSetBits)) * kWays;
  }
  bool Encode(std::string_view s, uint64_t* word) const;
  Slot* SlotsForInsert() const;
  std::string_view base_;
  mutable std::atomic<Slot*> slots_{nullptr};
  mutable std::atomic<uint32_t> victim_{0};  // round-robin eviction
};

}  // namespace gspy::gobinary_internal

#endif  // GSPY_GOLANG_BINARY_FRAME_CACHE_H_
