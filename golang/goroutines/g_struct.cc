#include "golang/goroutines/g_struct.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace gspy {
namespace {

template <typename T>
T Field(std::string_view head, int32_t offset) {
  T v{};
  if (offset >= 0 && static_cast<size_t>(offset) + sizeof(T) <= head.size()) {
    std::memcpy(&v, head.data() + offset, sizeof(T));
  }
  return v;
}

}  // namespace

size_t GReadSize(const RuntimeLayout& l) {
  int32_t max = 16;  // g.stack
  for (int32_t off :
       {l.g_sched + l.gobuf_sp, l.g_sched + l.gobuf_pc, l.g_sched + l.gobuf_bp,
        l.g_atomicstatus, l.g_goid, l.g_waitreason, l.g_waitsince, l.g_labels,
        l.g_parentgoid, l.g_gopc, l.g_startpc}) {
    max = std::max(max, off + 8);
  }
  return static_cast<size_t>(max);
}

GFields DecodeG(std::string_view head, const RuntimeLayout& l) {
  GFields g;
  g.stack_lo = Field<uint64_t>(head, 0);
  g.stack_hi = Field<uint64_t>(head, 8);
  if (l.g_sched >= 0) {
    g.sched_sp = Field<uint64_t>(head, l.g_sched + l.gobuf_sp);
    g.sched_pc = Field<uint64_t>(head, l.g_sched + l.gobuf_pc);
    if (l.gobuf_bp >= 0) {
      g.sched_bp = Field<uint64_t>(head, l.g_sched + l.gobuf_bp);
    }
  }
  g.status = Field<uint32_t>(head, l.g_atomicstatus);
  g.goid = Field<uint64_t>(head, l.g_goid);
  g.waitreason = Field<uint8_t>(head, l.g_waitreason);
  g.waitsince = Field<int64_t>(head, l.g_waitsince);
  g.labels = Field<uint64_t>(head, l.g_labels);
  g.parent_goid = Field<uint64_t>(head, l.g_parentgoid);
  g.gopc = Field<uint64_t>(head, l.g_gopc);
  g.startpc = Field<uint64_t>(head, l.g_startpc);
  return g;
}

absl::StatusOr<GFields> ReadG(const MemorySource& memory,
                              const RuntimeLayout& layout, uint64_t addr) {
  std::string head(GReadSize(layout), '\0');
  absl::Status s = memory.Read(addr, absl::MakeSpan(head.data(), head.size()));
  if (!s.ok()) return s;
  return DecodeG(head, layout);
}

bool PlausibleG(const GFields& g) {
  const uint32_t st = g.base_status();
  if (st > kGDeadExtra || (g.status & ~uint32_t{kGScanBit | 0xf}) != 0) {
    return false;
  }
  if (g.goid >= (uint64_t{1} << 48)) return false;
  if (g.stack_lo == 0 && g.stack_hi == 0) return st == kGDead || st == kGIdle;
  // Go stacks are 2 KiB at least and 1 GB at most (maxstacksize).
  return g.stack_lo < g.stack_hi && g.stack_hi - g.stack_lo >= 512 &&
         g.stack_hi - g.stack_lo <= (uint64_t{1} << 31);
}

std::string_view StatusName(uint32_t st) {
  switch (st) {
    case kGIdle:
      return "idle";
    case kGRunnable:
      return "runnable";
    case kGRunning:
      return "running";
    case kGSyscall:
      return "syscall";
    case kGWaiting:
      return "waiting";
    case kGDead:
      return "dead";
    case kGCopyStack:
      return "copystack";
    case kGPreempted:
      return "preempted";
    case kGLeaked:
      return "leaked";
    case kGDeadExtra:
      return "waiting for cgo callback";
    default:
      return "???";
  }
}

}  // namespace gspy
