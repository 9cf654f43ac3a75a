#include "daemon/sources/sampled/goroutine_sampler.h"

#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "golang/goroutines/goroutine_dump.h"
#include "golang/goroutines/stack_unwinder.h"

namespace gspy {
namespace {

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
      head_size_(GReadSize(layout)) {}

absl::StatusOr<bool> GoroutineSampler::ReadWait(uint64_t addr, const GFields& g,
                                                SampledWait* out) const {
  *out = SampledWait{};
  absl::StatusOr<LabelList> labels =
      ReadLabels(memory_, g.labels, layout_.labels_layout);
  if (labels.ok()) {
    out->labels = *std::move(labels);
  } else if (absl::IsNotFound(labels.status())) {
    return labels.status();
  } else {
    out->labels_error = true;
  }
  UnwoundStack stack = UnwindSaved(
      memory_, binary_, load_bias_,
      SavedContext{g.sched_pc, g.sched_sp, g.sched_bp, g.stack_lo, g.stack_hi},
      options_.max_frames, WrapperFrames::kKeep);
  out->stack_complete = stack.complete;
  out->stack.reserve(stack.pcs.size());
  for (uint64_t pc : stack.pcs) out->stack.push_back(pc + load_bias_);
  // A goroutine parked in runtime.gopark shows gopark's entry as its leaf,
  // as the block probes report it, so both modes give the same stacks.
  if (!out->stack.empty()) {
    std::optional<FuncInfo> leaf = binary_.FindFunction(stack.pcs[0]);
    if (leaf.has_value() && leaf->name == "runtime.gopark") {
      out->stack[0] = leaf->entry + load_bias_;
    }
  }
  absl::StatusOr<GFields> after = ReadG(memory_, layout_, addr);
  if (!after.ok()) {
    if (absl::IsNotFound(after.status())) return after.status();
    return false;
  }
  return g.SameState(*after);
}

absl::StatusOr<GoroutineSweep> GoroutineSampler::Sweep(int64_t now_ns) {
  GoroutineSweep sweep;
  sweep.from_ns = last_ns_ < 0 ? now_ns : last_ns_;
  sweep.to_ns = now_ns;
  const bool charge = last_ns_ >= 0;
  last_ns_ = now_ns;

  // allgs only grows and its entries never change (dead g's are reused in
  // place), so one read of the header and one of the array suffice.
  uint64_t header[2];
  absl::Status s =
      memory_.Read(allgs_, absl::MakeSpan(reinterpret_cast<char*>(header), 16));
  if (!s.ok()) return s;
  const uint64_t len = std::min<uint64_t>(header[1], options_.max_goroutines);
  array_.resize(len * 8);
  s = memory_.Read(header[0], absl::MakeSpan(array_.data(), array_.size()));
  if (!s.ok()) return s;

  addrs_.clear();
  for (uint64_t i = 0; i < len; ++i) {
    uint64_t gp;
    std::memcpy(&gp, array_.data() + i * 8, 8);
    if (gp == 0 || gp % 8 != 0) {
      ++sweep.counts.unreadable;
      continue;
    }
    addrs_.push_back(gp);
  }
  // Every g head in as few system calls as the source allows.
  heads_.resize(addrs_.size() * head_size_);
  ranges_.clear();
  for (size_t i = 0; i < addrs_.size(); ++i) {
    ranges_.push_back({addrs_[i], absl::MakeSpan(heads_.data() + i * head_size_,
                                                 head_size_)});
  }
  s = memory_.ReadMany(ranges_, &ok_);
  if (!s.ok()) return s;

  sweep.charges.reserve(addrs_.size());
  for (size_t i = 0; i < addrs_.size(); ++i) {
    const uint64_t addr = addrs_[i];
    if (!ok_[i]) {
      ++sweep.counts.unreadable;
      continue;
    }
    const GFields g = DecodeG(
        std::string_view(heads_.data() + i * head_size_, head_size_), layout_);
    if (!PlausibleG(g)) {
      ++sweep.counts.unreadable;
      continue;
    }
    const uint32_t st = g.base_status();
    const Kind kind = KindOf(st);
    if (kind == Kind::kFree) {
      cache_.erase(addr);
      continue;
    }
    ++sweep.counts.goroutines;
    auto [it, inserted] = cache_.try_emplace(addr);
    Entry& e = it->second;
    const WaitKey key{g.goid, g.sched_pc, g.sched_sp, g.sched_bp};
    if (inserted || e.key.goid != g.goid || e.startpc != g.startpc) {
      e.startpc = g.startpc;
      e.system = IsSystemGoroutine(
          binary_, g.startpc >= load_bias_ ? g.startpc - load_bias_ : 0);
    }
    // execute() clears waitsince and the GC sets it during a wait: another
    // nonzero value means the goroutine ran and waits again.
    const bool waitsince_moved = e.waitsince != 0 && g.waitsince != e.waitsince;
    const bool same_key = !inserted && e.key == key && !waitsince_moved;
    const bool new_episode =
        !same_key || e.base_status != st ||
        (kind == Kind::kWaiting && e.reason != g.waitreason);
    e.base_status = st;
    e.reason = g.waitreason;
    e.waitsince = g.waitsince;
    // `e.key` stays the key of the cached stack: a running goroutine's
    // saved context is stale, and it may park again just where it was.
    switch (kind) {
      case Kind::kRunning:
        ++sweep.counts.running;
        continue;
      case Kind::kSyscall:
        ++sweep.counts.syscall;
        continue;
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
      continue;
    }
    if (!same_key || !e.has_wait) {
      e.key = key;
      e.has_wait = false;
      absl::StatusOr<bool> whole = ReadWait(addr, g, &e.wait);
      if (!whole.ok()) return whole.status();
      ++sweep.counts.unwound;
      if (*whole) {
        e.has_wait = true;
      } else {
        // Ran between the two reads: its stack may be overwritten. A walk
        // that still reached goexit is a stack it had; keep the charge
        // (the state was read whole) but not the stack.
        ++sweep.counts.torn;
        if (!e.wait.stack_complete) {
          ++sweep.counts.torn_dropped;
          continue;
        }
      }
    } else {
      ++sweep.counts.cached;
    }
    if (!charge) continue;
    GoroutineCharge c;
    c.goid = g.goid;
    c.state = kind == Kind::kWaiting ? SampledState::kWaiting
                                     : SampledState::kRunnable;
    c.wait_reason = g.waitreason;
    c.new_episode = new_episode;
    c.wait = &e.wait;
    sweep.charges.push_back(c);
  }
  return sweep;
}

}  // namespace gspy
