// Finds the runtime globals that hold the Go runtime's books (runtime.sched,
// memstats, gcController, gomaxprocs, allp, ncgocall, allm, extraMInUse,
// extraMLength) in a running process: from .symtab when the binary has one,
// else by decoding the runtime functions that use them (like the allgs
// finder). A struct's base is pinned by a pair of field offsets from the
// books layout that must both appear among one function's references, so
// an address that merely looks right cannot pass; the single-word globals
// by the instruction that uses them, then checked against memory.
#ifndef GSPY_GOLANG_BOOKS_BOOKS_FINDER_H_
#define GSPY_GOLANG_BOOKS_BOOKS_FINDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/books_layout.h"
#include "golang/binary/go_binary.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {

// One global: its runtime address (load bias added), or why it is unknown.
struct BooksGlobal {
  uint64_t addr = 0;  // 0: not found
  std::string how;    // "symtab", "runtime.checkmcount refs", or why not
  bool found() const { return addr != 0; }
};

struct BooksGlobals {
  BooksGlobal sched, memstats, gc_controller, gomaxprocs, allp, ncgocall, allm,
      extra_m_in_use, extra_m_length;
};

struct BooksFinderOptions {
  // Off: decode functions even when .symtab has the names (tests of the
  // stripped path on unstripped binaries).
  bool use_symtab = true;
};

// Finds what it can; each global says how or why not. NOT_FOUND when the
// process is gone.
absl::StatusOr<BooksGlobals> FindBooksGlobals(const GoBinary& binary,
                                              const MemorySource& memory,
                                              uint64_t load_bias,
                                              const BooksLayout& layout,
                                              BooksFinderOptions options = {});

// One decoded amd64 instruction, reduced to what the finders match on.
struct RipInsn {
  std::string mnemonic;   // "mov", "lea", "cmp", "lock xadd" ...
  uint64_t target = 0;    // RIP-relative memory operand's address, or 0
  int mem_size = 0;       // bytes of the memory operand
  unsigned mem_base = 0;  // capstone register of a non-RIP memory operand
  unsigned reg0 = 0;      // first operand when it is a register
  bool has_imm = false;
  int64_t imm = 0;
};
// Decodes `code` (amd64, at link-time `address`). UNIMPLEMENTED elsewhere.
absl::StatusOr<std::vector<RipInsn>> DecodeRipInsns(std::string_view code,
                                                    uint64_t address,
                                                    std::string_view goarch);

// Every base B such that B + off1 and B + off2 are both in `refs`, in
// reference order; the caller checks each against memory.
std::vector<uint64_t> BasesFromPair(const std::vector<uint64_t>& refs,
                                    int32_t off1, int32_t off2);

}  // namespace gspy

#endif  // GSPY_GOLANG_BOOKS_BOOKS_FINDER_H_
