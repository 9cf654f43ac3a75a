#include "golang/binary/frame_cache.h"

namespace gspy::gobinary_internal {

FrameCache::FrameCache(std::string_view base) : base_(base) {}

FrameCache::~FrameCache() { delete[] slots_.load(std::memory_order_acquire); }

FrameCache::Slot* FrameCache::SlotsForInsert() const {
  Slot* slots = slots_.load(std::memory_order_acquire);
  if (slots != nullptr) return slots;
  // First insert: allocate. The loser of a race frees its array.
  Slot* fresh = new Slot[kSlots];
  if (slots_.compare_exchange_strong(slots, fresh, std::memory_order_acq_rel)) {
    return fresh;
  }
  delete[] fresh;
  return slots;
}

bool FrameCache::Encode(std::string_view s, uint64_t* word) const {
  const uintptr_t p = reinterpret_cast<uintptr_t>(s.data());
  const uintptr_t b = reinterpret_cast<uintptr_t>(base_.data());
  if (p < b || p - b > base_.size() || s.size() > base_.size() - (p - b)) {
    return false;
  }
  const uint64_t off = p - b;
  if (off > UINT32_MAX || s.size() > UINT32_MAX) return false;
  *word = off << 32 | s.size();
  return true;
}

bool FrameCache::Lookup(uint64_t pc, std::vector<Frame>* out) const {
  const Slot* slots = slots_.load(std::memory_order_acquire);
  if (slots == nullptr) return false;
  const size_t set = SetStart(pc);
  for (size_t way = 0; way < kWays; ++way) {
    const Slot& slot = slots[set + way];
    if (slot.pc.load(std::memory_order_relaxed) != pc) continue;
    const uint64_t s1 = slot.seq.load(std::memory_order_acquire);
    if ((s1 & 1) != 0) return false;
    if (slot.pc.load(std::memory_order_relaxed) != pc) return false;
    const uint64_t n = slot.n.load(std::memory_order_relaxed);
    if (n == 0 || n > kMaxFrames) return false;
    uint64_t w[kMaxFrames * 3];
    for (size_t i = 0; i < n * 3; ++i) {
      w[i] = slot.words[i].load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.seq.load(std::memory_order_relaxed) != s1) return false;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t* f = &w[i * 3];
      Frame fr;
      fr.function = base_.substr(f[0] >> 32, f[0] & UINT32_MAX);
      fr.file = base_.substr(f[1] >> 32, f[1] & UINT32_MAX);
      fr.line = static_cast<int32_t>(f[2] >> 32);
      fr.start_line = static_cast<int32_t>(static_cast<uint32_t>(f[2]) >> 1);
      fr.inlined = (f[2] & 1) != 0;
      out->push_back(fr);
    }
    return true;
  }
  return false;
}

void FrameCache::Insert(uint64_t pc, const Frame* frames, size_t n) const {
  if (pc == 0 || n == 0 || n > kMaxFrames) return;
  uint64_t w[kMaxFrames * 3];
  for (size_t i = 0; i < n; ++i) {
    const Frame& fr = frames[i];
    if (!Encode(fr.function, &w[i * 3]) || !Encode(fr.file, &w[i * 3 + 1]) ||
        fr.start_line < 0 || fr.start_line > INT32_MAX / 2) {
      return;
    }
    w[i * 3 + 2] = static_cast<uint64_t>(static_cast<uint32_t>(fr.line)) << 32 |
                   static_cast<uint64_t>(fr.start_line) << 1 |
                   (fr.inlined ? 1 : 0);
  }
  Slot* slots = SlotsForInsert();
  // An empty way of the set, else round robin.
  const size_t set = SetStart(pc);
  size_t way = kWays;
  for (size_t i = 0; i < kWays; ++i) {
    const uint64_t p = slots[set + i].pc.load(std::memory_order_relaxed);
    if (p == pc) return;  // another thread cached it meanwhile
    if (p == 0 && way == kWays) way = i;
  }
  if (way == kWays) {
    way = victim_.fetch_add(1, std::memory_order_relaxed) % kWays;
  }
  Slot& slot = slots[set + way];
  uint64_t s = slot.seq.load(std::memory_order_relaxed);
  if ((s & 1) != 0) return;  // another writer owns the slot
  if (!slot.seq.compare_exchange_strong(s, s + 1, std::memory_order_acquire)) {
    return;
  }
  std::atomic_thread_fence(std::memory_order_release);
  slot.pc.store(pc, std::memory_order_relaxed);
  slot.n.store(n, std::memory_order_relaxed);
  for (size_t i = 0; i < n * 3; ++i) {
    slot.words[i].store(w[i], std::memory_order_relaxed);
  }
  slot.seq.store(s + 2, std::memory_order_release);
}

}  // namespace gspy::gobinary_internal
