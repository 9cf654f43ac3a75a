// The fields of a runtime.g that a goroutine dump reads, decoded from one
// read of the struct's head with the binary's RuntimeLayout.
#ifndef GSPY_GOLANG_GOROUTINES_G_STRUCT_H_
#define GSPY_GOLANG_GOROUTINES_G_STRUCT_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "golang/binary/runtime_layout.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {

// runtime/runtime2.go's _G* constants (the same numbers in 1.18-1.27;
// 1.26 added leaked and deadextra).
enum GStatus : uint32_t {
  kGIdle = 0,
  kGRunnable = 1,
  kGRunning = 2,
  kGSyscall = 3,
  kGWaiting = 4,
  kGDead = 6,
  kGCopyStack = 8,
  kGPreempted = 9,
  kGLeaked = 10,     // 1.26+: parked forever on unreachable objects
  kGDeadExtra = 11,  // 1.26+: an idle extra M's g, awaiting a cgo callback
  kGScanBit = 0x1000,
};

struct GFields {
  uint64_t stack_lo = 0, stack_hi = 0;  // g.stack, always at offset 0
  uint64_t sched_sp = 0, sched_pc = 0, sched_bp = 0;
  uint32_t status = 0;  // with the scan bit
  uint64_t goid = 0;
  uint8_t waitreason = 0;
  int64_t waitsince = 0;  // 0 when not known
  uint64_t labels = 0;    // *labelMap, 0 when none
  uint64_t parent_goid = 0;
  uint64_t gopc = 0;
  uint64_t startpc = 0;

  uint32_t base_status() const { return status & ~uint32_t{kGScanBit}; }
  // What must not change while the goroutine is read: a change means it ran
  // (or its stack moved) in between, and what was read may be torn.
  bool SameState(const GFields& o) const {
    return goid == o.goid && status == o.status && sched_sp == o.sched_sp &&
           sched_pc == o.sched_pc && sched_bp == o.sched_bp &&
           stack_lo == o.stack_lo && stack_hi == o.stack_hi &&
           labels == o.labels;
  }
};

// Bytes of the g head that hold every field the layout names.
size_t GReadSize(const RuntimeLayout& layout);

// Decodes `head` (GReadSize bytes at the g's address).
GFields DecodeG(std::string_view head, const RuntimeLayout& layout);

// Reads and decodes the g at `addr`.
absl::StatusOr<GFields> ReadG(const MemorySource& memory,
                              const RuntimeLayout& layout, uint64_t addr);

// Whether `g` could be a real runtime.g: a known status, a stack of sane
// size (or none, for a dead g whose stack was freed), a goid below 2^48.
// Used to validate a candidate allgs and to catch garbage pointers.
bool PlausibleG(const GFields& g);

// Status names as Go's tracebacks print them ("runnable", "waiting", ...).
std::string_view StatusName(uint32_t base_status);

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_G_STRUCT_H_
