#include "daemon/sources/sampled/goroutine_sampler.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "golang/goroutines/goroutine_dump.h"
#include "golang/goroutines/stack_unwinder.h"

namespace gspy {
namespace {

std::atomic<uint64_t> next_wait_id{1};

// How a status counts. _Gcopystack is a running goroutine growing its stack.
enum class Kind { kFree, kWaiting, kRunnable, kRunning, kSyscall };

Kind KindOf(uint32_t base_status) {
  switch (base_status) {
    case kGWaiting:
    case kGLeaked:
      return Kind::kWaiting;
    case kGRunnable:
    case kGPreempted:
      return Kind::kRunnable;
    case kGRunning:
    case kGCopyStack:
      return Kind::kRunning;
    case kGSyscall:
      return Kind::kSyscall;
    default:
      return Kind::kFree;
  }
}

// The bytes of a g head a sweep needs (see hot_size_).
size_t HotReadSize(const RuntimeLayout& l) {
  int32_t max = 16;  // g.stack
  for (int32_t off :
       {l.g_sched + l.gobuf_sp, l.g_sched + l.gobuf_pc, l.g_sched + l.gobuf_bp,
        l.g_atomicstatus, l.g_goid, l.g_waitreason, l.g_waitsince}) {
    max = std::max(max, off + 8);
  }
  return static_cast<size_t>(max);
}

// The fields the hot read and a whole read of one g share, equal: the
// goroutine did not move on in between.
bool SameHot(const GFields& a, const GFields& b) {
  return a.goid == b.goid && a.status == b.status && a.sched_sp == b.sched_sp &&
         a.sched_pc == b.sched_pc && a.sched_bp == b.sched_bp &&
         a.stack_lo == b.stack_lo && a.stack_hi == b.stack_hi;
}

// The bytes of a goroutine's stack an unwinding reads in one go: from its
// saved sp up, at most kStackBulkBytes; none when sp lies outside it.
uint64_t StackBytesToRead(const GFields& g) {
  if (g.sched_sp < g.stack_lo || g.sched_sp >= g.stack_hi) return 0;
  return std::min<uint64_t>(g.stack_hi - g.sched_sp, kStackBulkBytes);
}

// What a label set holds in gspyd, as the budget counts it.
size_t LabelBytes(const LabelList& labels) {
  size_t n = 0;
  for (const auto& [key, value] : labels) n += key.size() + value.size();
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GoroutineSampler>> GoroutineSampler::Create(
    const GoBinary& binary, const MemorySource& memory, uint64_t load_bias,
    GoroutineSamplerOptions options) {
  const absl::StatusOr<RuntimeLayout>& layout = binary.runtime_layout();
  if (!layout.ok()) {
    return absl::FailedPreconditionError(layout.status().message());
  }
  if (layout->g_sched < 0 || layout->g_atomicstatus < 0 || layout->g_goid < 0 ||
      layout->g_waitreason < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the runtime layout of ", layout->go_version,
                     " lacks g.sched, g.atomicstatus, g.goid or g.waitreason"));
  }
  absl::StatusOr<AllgsLocation> allgs =
      FindAllgs(binary, memory, load_bias, *layout);
  if (!allgs.ok()) return allgs.status();
  return std::unique_ptr<GoroutineSampler>(new GoroutineSampler(
      binary, memory, load_bias, *layout, allgs->addr, options));
}

GoroutineSampler::GoroutineSampler(const GoBinary& binary,
                                   const MemorySource& memory,
                                   uint64_t load_bias,
                                   const RuntimeLayout& layout, uint64_t allgs,
                                   GoroutineSamplerOptions options)
    : binary_(binary),
      memory_(memory),
      load_bias_(load_bias),
      layout_(layout),
      allgs_(allgs),
      options_(options),
      hot_size_(HotReadSize(layout)),
      pc_info_(binary) {}

size_t GoroutineSampler::cached_goroutines() const {
  size_t n = 0;
  for (const Entry& e : entries_) n += e.live ? 1 : 0;
  return n;
}

void GoroutineSampler::Reset(Entry& e, Entry fresh) {
  label_bytes_ -= LabelBytes(e.wait.labels);
  e = std::move(fresh);
}

void GoroutineSampler::ChargeLabels(SampledWait& wait, SweepCounts& counts) {
  const size_t bytes = LabelBytes(wait.labels);
  if (bytes > options_.max_label_bytes - label_bytes_) {
    LabelList().swap(wait.labels);  // frees them
    wait.labels_error = true;
    ++counts.labels_over_budget;
    return;
  }
  label_bytes_ += bytes;
}

absl::Status GoroutineSampler::UnwindPending(bool charge,
                                             GoroutineSweep& sweep) {
  // Groups bounded in count (one readv's worth of ranges) and in stack
  // bytes, which the target decides: 1024 goroutines parked 64 KiB deep
  // would otherwise take 64 MiB here.
  constexpr size_t kMaxGroup = 1024;
  constexpr uint64_t kMaxGroupStackBytes = 4 << 20;
  absl::Span<const PendingWait> all(pending_);
  size_t at = 0;
  while (at < all.size()) {
    size_t end = at;
    uint64_t bytes = 0;
    while (end < all.size() && end - at < kMaxGroup) {
      const uint64_t n = StackBytesToRead(all[end].hot);
      if (end > at && bytes + n > kMaxGroupStackBytes) break;
      bytes += n;
      ++end;
    }
    absl::Status s = UnwindGroup(all.subspan(at, end - at), charge, sweep);
    if (!s.ok()) {
      pending_.clear();
      return s;
    }
    at = end;
  }
  pending_.clear();
  // A first sweep's groups fill these up to ~5 MiB; kept, every watched
  // process would hold that for as long as it is watched, while the steady
  // sweeps' few new waits need a few KiB.
  constexpr size_t kKeptBytes = 64 << 10;
  for (std::string* buf : {&whole_heads_, &stacks_, &heads_after_}) {
    if (buf->capacity() > kKeptBytes) std::string().swap(*buf);
  }
  return absl::OkStatus();
}

absl::Status GoroutineSampler::UnwindGroup(absl::Span<const PendingWait> group,
                                           bool charge, GoroutineSweep& sweep) {
  const size_t whole = GReadSize(layout_);
  const size_t n = group.size();
  // The group's whole heads (labels and startpc lie past the hot part)
  // into `buf`, one after the other.
  auto read_heads = [&](std::string& buf, std::vector<bool>& ok) {
    buf.resize(n * whole);
    unwind_ranges_.clear();
    for (size_t k = 0; k < n; ++k) {
      uint64_t addr;
      std::memcpy(&addr,
                  array_.data() + static_cast<size_t>(group[k].index) * 8, 8);
      unwind_ranges_.push_back({addr, absl::MakeSpan(&buf[k * whole], whole)});
    }
    return memory_.ReadMany(unwind_ranges_, &ok);
  };
  absl::Status s = read_heads(whole_heads_, heads_ok_);
  if (!s.ok()) return s;
  std::vector<GFields> before(n);
  std::vector<bool> trusted(n, false);  // the whole head matches the hot one
  for (size_t k = 0; k < n; ++k) {
    if (!heads_ok_[k]) continue;
    before[k] =
        DecodeG(std::string_view(&whole_heads_[k * whole], whole), layout_);
    trusted[k] = SameHot(before[k], group[k].hot);
  }
  // The used part of each stack, laid end to end.
  std::vector<size_t> stack_at(n + 1, 0);
  for (size_t k = 0; k < n; ++k) {
    stack_at[k + 1] =
        stack_at[k] + (trusted[k] ? StackBytesToRead(before[k]) : 0);
  }
  stacks_.resize(stack_at[n]);
  unwind_ranges_.clear();
  std::vector<size_t> range_of(n, SIZE_MAX);
  for (size_t k = 0; k < n; ++k) {
    if (stack_at[k + 1] == stack_at[k]) continue;
    range_of[k] = unwind_ranges_.size();
    unwind_ranges_.push_back(
        {before[k].sched_sp,
         absl::MakeSpan(&stacks_[stack_at[k]], stack_at[k + 1] - stack_at[k])});
  }
  s = memory_.ReadMany(unwind_ranges_, &stacks_ok_);
  if (!s.ok()) return s;
  std::vector<uint64_t> startpcs(n, 0);
  for (size_t k = 0; k < n; ++k) {
    Entry& e = entries_[group[k].index];
    e.wait = SampledWait{};
    e.wait.id = next_wait_id.fetch_add(1, std::memory_order_relaxed);
    if (!trusted[k]) continue;
    const GFields& g = before[k];
    startpcs[k] = g.startpc;
    absl::StatusOr<LabelList> labels =
        ReadLabels(memory_, g.labels, layout_.labels_layout);
    if (labels.ok()) {
      e.wait.labels = *std::move(labels);
    } else if (absl::IsNotFound(labels.status())) {
      return labels.status();
    } else {
      e.wait.labels_error = true;
    }
    // Into the label budget now, not with the group's other results: a
    // group's worth of label sets the budget refuses (1024 x 256 KiB) must
    // not be held at once.
    ChargeLabels(e.wait, sweep.counts);
    // A stack the batch could not read whole is read word by word.
    std::string_view at_sp;
    if (range_of[k] != SIZE_MAX && stacks_ok_[range_of[k]]) {
      at_sp = std::string_view(&stacks_[stack_at[k]],
                               stack_at[k + 1] - stack_at[k]);
    }
    UnwoundStack stack = UnwindSaved(
        memory_, binary_, load_bias_,
        SavedContext{g.sched_pc, g.sched_sp, g.sched_bp, g.stack_lo,
                     g.stack_hi},
        options_.max_frames, WrapperFrames::kKeep, at_sp, &pc_info_);
    e.wait.stack_complete = stack.complete;
    e.wait.stack.reserve(stack.pcs.size());
    for (uint64_t pc : stack.pcs) e.wait.stack.push_back(pc + load_bias_);
    // A goroutine parked in runtime.gopark shows gopark's entry as its
    // leaf, as the block probes report it, so both modes give the same
    // stacks.
    if (!e.wait.stack.empty()) {
      const std::optional<FuncInfo>& leaf = pc_info_.Lookup(stack.pcs[0]).func;
      if (leaf.has_value() && leaf->name == "runtime.gopark") {
        e.wait.stack[0] = leaf->entry + load_bias_;
      }
    }
  }
  // The heads again: a goroutine that ran since its first read may have
  // overwritten the stack under the walk.
  s = read_heads(heads_after_, after_ok_);
  if (!s.ok()) return s;
  for (size_t k = 0; k < n; ++k) {
    const PendingWait& p = group[k];
    Entry& e = entries_[p.index];
    const bool intact =
        trusted[k] && after_ok_[k] &&
        before[k].SameState(DecodeG(
            std::string_view(&heads_after_[k * whole], whole), layout_));
    ++sweep.counts.unwound;
    if (startpcs[k] != 0) {
      e.system = IsSystemGoroutine(
          binary_, startpcs[k] >= load_bias_ ? startpcs[k] - load_bias_ : 0);
    }
    if (e.system && !options_.include_system) {
      ++sweep.counts.system_skipped;
      e.has_wait = intact;  // nothing to charge; no need to read it again
      continue;
    }
    if (intact) {
      e.has_wait = true;
    } else {
      // Ran between the reads: its stack may be overwritten. A walk that
      // still reached goexit is a stack it had; keep the charge (the
      // state was read whole) but not the stack.
      ++sweep.counts.torn;
      if (!e.wait.stack_complete) {
        ++sweep.counts.torn_dropped;
        continue;
      }
    }
    Charge(p.index, p.hot, p.waiting, p.new_episode, charge, sweep);
  }
  return absl::OkStatus();
}

void GoroutineSampler::Plan() {
  const size_t len = array_.size() / 8;
  std::vector<std::pair<uint64_t, size_t>> by_addr;  // (g, allgs index)
  by_addr.reserve(len);
  slot_.assign(len, -1);
  range_of_.assign(len, 0);
  for (size_t i = 0; i < len; ++i) {
    uint64_t gp;
    std::memcpy(&gp, array_.data() + i * 8, 8);
    if (gp != 0 && gp % 8 == 0) by_addr.emplace_back(gp, i);
  }
  std::sort(by_addr.begin(), by_addr.end());
  // Ranges as (start, size); a gap of up to kMaxGap bytes between two heads
  // is read along, up to kMaxRange bytes per range.
  constexpr uint64_t kMaxGap = 512, kMaxRange = 64 << 10;
  std::vector<std::pair<uint64_t, uint64_t>> plan;
  for (const auto& [gp, i] : by_addr) {
    if (plan.empty() || gp < plan.back().first + plan.back().second ||
        gp - (plan.back().first + plan.back().second) > kMaxGap ||
        gp + hot_size_ - plan.back().first > kMaxRange) {
      plan.emplace_back(gp, hot_size_);
    } else {
      plan.back().second = gp + hot_size_ - plan.back().first;
    }
  }
  // The ranges' `out` point into the chunk buffer at each read (Sweep);
  // here they only carry their sizes.
  ranges_.clear();
  for (const auto& [start, size] : plan) {
    ranges_.push_back({start, absl::MakeSpan(static_cast<char*>(nullptr),
                                             static_cast<size_t>(size))});
  }
  size_t r = 0, offset = 0;
  order_.clear();
  order_.reserve(by_addr.size());
  for (const auto& [gp, i] : by_addr) {
    while (gp >= ranges_[r].addr + ranges_[r].out.size()) {
      offset += ranges_[r].out.size();
      ++r;
    }
    slot_[i] = static_cast<int64_t>(offset + (gp - ranges_[r].addr));
    range_of_[i] = static_cast<uint32_t>(r);
    order_.push_back(static_cast<uint32_t>(i));
  }
  planned_array_ = array_;
  if (entries_.size() < len) entries_.resize(len);
}

absl::StatusOr<GoroutineSweep> GoroutineSampler::Sweep(int64_t now_ns) {
  GoroutineSweep sweep;
  sweep.from_ns = last_ns_ < 0 ? now_ns : last_ns_;
  sweep.to_ns = now_ns;
  const bool charge = last_ns_ >= 0;
  last_ns_ = now_ns;

  // allgs only grows and its entries never change (dead g's are reused in
  // place), so one read of the header and one of the array suffice, and
  // the plan of the head reads holds until it grows.
  uint64_t header[2];
  absl::Status s =
      memory_.Read(allgs_, absl::MakeSpan(reinterpret_cast<char*>(header), 16));
  if (!s.ok()) return s;
  const uint64_t len = std::min<uint64_t>(header[1], options_.max_goroutines);
  array_.resize(len * 8);
  s = memory_.Read(header[0], absl::MakeSpan(array_.data(), array_.size()));
  if (!s.ok()) return s;
  if (array_ != planned_array_) Plan();
  sweep.charges.reserve(len);
  sweep.counts.unreadable += static_cast<int64_t>(len - order_.size());
  // The heads in address order, a chunk of ranges at a time into one small
  // buffer: the kernel copies into cache-resident memory, and each head is
  // decoded while it is still there. Reading all of them first (tens of MB
  // at 100k+ goroutines) and decoding after missed the cache on both sides.
  constexpr size_t kChunkBytes = 256 << 10;
  size_t next = 0;      // in order_
  size_t chunk_at = 0;  // offset of range `r` in the heads' layout (slot_)
  for (size_t r = 0; r < ranges_.size();) {
    size_t end = r, bytes = 0;
    while (end < ranges_.size() && bytes < kChunkBytes) {
      bytes += ranges_[end++].out.size();
    }
    if (heads_.size() < bytes) heads_.resize(bytes);
    size_t at = 0;
    for (size_t j = r; j < end; ++j) {
      ranges_[j].out =
          absl::MakeSpan(heads_.data() + at, ranges_[j].out.size());
      at += ranges_[j].out.size();
    }
    // The chunk's heads in one system call (or as few as the source allows).
    s = memory_.ReadMany(absl::MakeSpan(ranges_).subspan(r, end - r), &ok_);
    if (!s.ok()) return s;
    for (; next < order_.size() && range_of_[order_[next]] < end; ++next) {
      const size_t i = order_[next];
      const absl::Span<char> head(heads_.data() + (slot_[i] - chunk_at),
                                  hot_size_);
      s = SweepOne(i, head, ok_[range_of_[i] - r], charge, sweep);
      if (!s.ok()) {
        pending_.clear();
        return s;
      }
    }
    s = UnwindPending(charge, sweep);
    if (!s.ok()) return s;
    chunk_at += bytes;
    r = end;
  }
  return sweep;
}

absl::Status GoroutineSampler::SweepOne(size_t i, absl::Span<char> head,
                                        bool range_ok, bool charge,
                                        GoroutineSweep& sweep) {
  uint64_t addr;
  std::memcpy(&addr, array_.data() + i * 8, 8);
  if (!range_ok) {
    // A range of several heads failed as a whole: this one alone.
    absl::Status s = memory_.Read(addr, head);
    if (absl::IsNotFound(s)) return s;
    if (!s.ok()) {
      ++sweep.counts.unreadable;
      return absl::OkStatus();
    }
  }
  const GFields g =
      DecodeG(std::string_view(head.data(), head.size()), layout_);
  if (!PlausibleG(g)) {
    ++sweep.counts.unreadable;
    return absl::OkStatus();
  }
  Entry& e = entries_[i];
  const uint32_t st = g.base_status();
  const Kind kind = KindOf(st);
  if (e.g_addr != addr || kind == Kind::kFree) {
    Reset(e, Entry{.g_addr = addr});
  }
  if (kind == Kind::kFree) return absl::OkStatus();
  ++sweep.counts.goroutines;
  const bool fresh = !e.live || e.goid != g.goid;
  if (fresh) Reset(e, Entry{.g_addr = addr, .live = true, .goid = g.goid});
  const WaitKey key{g.goid, g.sched_pc, g.sched_sp, g.sched_bp};
  // execute() clears waitsince and the GC sets it during a wait: another
  // nonzero value means the goroutine ran and waits again.
  const bool waitsince_moved = e.waitsince != 0 && g.waitsince != e.waitsince;
  const bool same_key = e.has_wait && e.key == key && !waitsince_moved;
  const bool new_episode = fresh || !same_key || e.base_status != st ||
                           (kind == Kind::kWaiting && e.reason != g.waitreason);
  e.base_status = st;
  e.reason = g.waitreason;
  e.waitsince = g.waitsince;
  // `e.key` stays the key of the cached stack: a running goroutine's
  // saved context is stale, and it may park again just where it was.
  switch (kind) {
    case Kind::kRunning:
      ++sweep.counts.running;
      return absl::OkStatus();
    case Kind::kSyscall:
      ++sweep.counts.syscall;
      return absl::OkStatus();
    case Kind::kWaiting:
      ++sweep.counts.waiting;
      break;
    case Kind::kRunnable:
      ++sweep.counts.runnable;
      break;
    case Kind::kFree:
      break;
  }
  if (e.system && !options_.include_system) {
    ++sweep.counts.system_skipped;
    return absl::OkStatus();
  }
  if (!same_key) {
    e.key = key;
    e.key_reason = 0;
    e.has_wait = false;
    label_bytes_ -= LabelBytes(e.wait.labels);
    e.wait.labels.clear();
    pending_.push_back({.index = static_cast<uint32_t>(i),
                        .hot = g,
                        .waiting = kind == Kind::kWaiting,
                        .new_episode = new_episode});
    return absl::OkStatus();
  }
  ++sweep.counts.cached;
  Charge(i, g, kind == Kind::kWaiting, new_episode, charge, sweep);
  return absl::OkStatus();
}

void GoroutineSampler::Charge(size_t i, const GFields& g, bool waiting,
                              bool new_episode, bool charge,
                              GoroutineSweep& sweep) {
  Entry& e = entries_[i];
  if (waiting) e.key_reason = g.waitreason;
  if (!charge) return;
  GoroutineCharge c;
  c.goid = g.goid;
  c.state = waiting ? SampledState::kWaiting : SampledState::kRunnable;
  c.wait_reason = waiting ? g.waitreason : e.key_reason;
  c.new_episode = new_episode;
  c.slot = static_cast<uint32_t>(i);
  c.wait_id = e.wait.id;
  c.wait = &e.wait;
  sweep.charges.push_back(c);
}

}  // namespace gspy
