#include "golang/profiles/profile_globals.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "golang/binary/go_version.h"
#include "golang/profiles/bucket_list.h"

namespace gspy {
namespace {

constexpr uint64_t kMaxFunctionBytes = 16 << 10;
// mProfCycleWrap: 3 * (2 << 24).
constexpr uint64_t kCycleWrap = 3 * (uint64_t{2} << 24);

// Link-time addresses of the globals `fn` loads with a plain mov of
// `bytes` bytes (rip-relative), in order, without repeats.
absl::StatusOr<std::vector<uint64_t>> Loads(const GoBinary& binary,
                                            const MemorySource& memory,
                                            uint64_t bias, const char* fn,
                                            int bytes) {
  std::optional<FuncInfo> f = binary.FindFunctionByName(fn);
  if (!f.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat("no function ", fn));
  }
  const uint64_t size = std::min<uint64_t>(
      f->end > f->entry ? f->end - f->entry : 0, kMaxFunctionBytes);
  absl::StatusOr<std::string> code = memory.ReadAt(f->entry + bias, size);
  if (!code.ok()) return code.status();
  absl::StatusOr<std::vector<RipInsn>> insns =
      DecodeRipInsns(*code, f->entry, binary.goarch());
  if (!insns.ok()) return insns.status();
  std::vector<uint64_t> out;
  for (const RipInsn& i : *insns) {
    if (i.target == 0 || i.mem_size != bytes) continue;
    if (i.mnemonic != "mov" && i.mnemonic != "movzx") continue;
    // A store ("mov [rip+x], reg") has the memory operand first; Loads
    // want the register first.
    if (i.reg0 == 0) continue;
    if (std::find(out.begin(), out.end(), i.target) == out.end()) {
      out.push_back(i.target);
    }
  }
  return out;
}

class Finder {
 public:
  Finder(const GoBinary& binary, const MemorySource& memory, uint64_t bias,
         bool use_symtab)
      : binary_(binary), memory_(memory), bias_(bias), symtab_(use_symtab) {}

  absl::StatusOr<ProfileGlobals> Run() {
    ProfileGlobals g;
    const int minor =
        GoMinorVersion(binary_.build_info().go_version).value_or(0);
    g.cycle_shifted = minor >= 19;
    const std::initializer_list<const char*> mem_fns = {
        "runtime.memProfileInternal", "runtime.MemProfile",
        "runtime.mProf_FlushLocked"};
    g.memory_profiler_linked =
        binary_.FindFunctionByName("runtime.MemProfile").has_value() ||
        binary_.FindFunctionByName("runtime.memProfileInternal").has_value();
    g.mbuckets = List("runtime.mbuckets", BucketType::kMemory, mem_fns);
    g.bbuckets = List("runtime.bbuckets", BucketType::kBlock,
                      {"runtime.blockProfileInternal", "runtime.BlockProfile"},
                      &g.bbuckets_nil);
    g.xbuckets = List("runtime.xbuckets", BucketType::kMutex,
                      {"runtime.mutexProfileInternal", "runtime.MutexProfile"},
                      &g.xbuckets_nil);
    // SetMutexProfileFraction reads the fraction (rate < 0 returns it), as
    // does mutexevent before sampling (named sync.event by its linkname up
    // to go1.26); blockevent reads the
    // block rate. None loads another 8-byte global. SetMutexProfileFraction
    // is often inlined away, hence mutexevent.
    g.mutex_profile_rate =
        OnlyLoad("runtime.mutexprofilerate",
                 {"runtime.SetMutexProfileFraction", "sync.event",
                  "internal/sync.event", "runtime.mutexevent"});
    g.block_profile_rate =
        OnlyLoad("runtime.blockprofilerate", {"runtime.blockevent"});
    g.ticks_per_second = Ticks();
    g.cycle = Cycle(minor >= 19 ? "runtime.mProfCycle" : "runtime.mProf",
                    g.cycle_shifted, mem_fns);
    g.mem_profile_rate = Rate();
    if (gone_) return absl::NotFoundError("process gone");
    return g;
  }

 private:
  std::optional<uint64_t> Symbol(const char* name) {
    if (!symtab_) return std::nullopt;
    std::optional<uint64_t> a = binary_.SymbolAddress(name);
    if (a.has_value()) return *a + bias_;
    return std::nullopt;
  }

  // A list head: nil (no bucket yet) or a bucket of `type`.
  absl::Status CheckList(uint64_t addr, BucketType type) {
    absl::StatusOr<uint64_t> head = memory_.ReadU64(addr);
    if (!head.ok()) return head.status();
    if (*head == 0) return absl::UnavailableError("nil (no bucket yet)");
    absl::StatusOr<std::string> hdr = memory_.ReadAt(*head, kBucketHeaderBytes);
    if (!hdr.ok()) return hdr.status();
    uint64_t typ, nstk;
    memcpy(&typ, hdr->data() + 16, 8);
    memcpy(&nstk, hdr->data() + 40, 8);
    if (typ != static_cast<uint64_t>(type) || nstk > kMaxBucketStack) {
      return absl::DataLossError(
          absl::StrCat("head bucket has type ", typ, ", nstk ", nstk));
    }
    return absl::OkStatus();
  }

  BooksGlobal List(const char* symbol, BucketType type,
                   std::initializer_list<const char*> fns,
                   bool* nil = nullptr) {
    BooksGlobal out;
    if (std::optional<uint64_t> a = Symbol(symbol)) return {*a, "symtab"};
    std::string why;
    int candidates = 0, nils = 0;
    for (const char* fn : fns) {
      absl::StatusOr<std::vector<uint64_t>> loads =
          Loads(binary_, memory_, bias_, fn, 8);
      if (!loads.ok()) {
        gone_ |= IsGone(loads.status());
        absl::StrAppend(&why, loads.status().message(), "; ");
        continue;
      }
      for (uint64_t c : *loads) {
        absl::Status st = CheckList(c + bias_, type);
        if (st.ok()) return {c + bias_, absl::StrCat(fn, " loads")};
        ++candidates;
        if (absl::IsUnavailable(st)) ++nils;
        gone_ |= IsGone(st);
        absl::StrAppend(&why, fn, " load 0x", absl::Hex(c), ": ", st.message(),
                        "; ");
      }
    }
    out.how = why.empty() ? "no candidates" : why;
    if (nil != nullptr) *nil = candidates > 0 && nils == candidates;
    return out;
  }

  // A uint64 global that `fn` is the only 8-byte global `fn` loads, its
  // value a plausible rate (below 2^40: a tick count of minutes).
  BooksGlobal OnlyLoad(const char* symbol,
                       std::initializer_list<const char*> fns) {
    if (std::optional<uint64_t> a = Symbol(symbol)) return {*a, "symtab"};
    return LoadedU64(fns, /*only=*/true, [](uint64_t v) {
      return v < (uint64_t{1} << 40)
                 ? std::string()
                 : absl::StrCat(" load holds ", v, ", not a rate");
    });
  }

  // runtime.ticks.val: the first 8-byte global ticksPerSecond (go1.21+) or
  // tickspersecond loads; 0 or a plausible tick rate (1 MHz .. 1 THz).
  BooksGlobal Ticks() {
    return LoadedU64(
        {"runtime.ticksPerSecond", "runtime.tickspersecond"}, /*only=*/false,
        [](uint64_t v) {
          return v == 0 || (v >= 1'000'000 && v <= 1'000'000'000'000)
                     ? std::string()
                     : absl::StrCat(" load holds ", v, ", not ticks/s");
        });
  }

  // The first 8-byte global one of `fns` loads (with `only`, the one it
  // loads, else none) whose value `implausible` finds nothing wrong with
  // (it says what is wrong, empty when nothing).
  BooksGlobal LoadedU64(
      std::initializer_list<const char*> fns, bool only,
      const std::function<std::string(uint64_t)>& implausible) {
    std::string why;
    for (const char* fn : fns) {
      absl::StatusOr<std::vector<uint64_t>> loads =
          Loads(binary_, memory_, bias_, fn, 8);
      if (!loads.ok()) {
        gone_ |= IsGone(loads.status());
        absl::StrAppend(&why, loads.status().message(), "; ");
        continue;
      }
      if (only ? loads->size() != 1 : loads->empty()) {
        absl::StrAppend(
            &why, fn, " loads ", loads->size(),
            only ? " 8-byte globals, not one; " : " 8-byte globals; ");
        continue;
      }
      absl::StatusOr<uint64_t> v = memory_.ReadU64((*loads)[0] + bias_);
      if (!v.ok()) {
        gone_ |= IsGone(v.status());
        absl::StrAppend(&why, v.status().message(), "; ");
        continue;
      }
      if (std::string wrong = implausible(*v); !wrong.empty()) {
        absl::StrAppend(&why, fn, wrong, "; ");
        continue;
      }
      return {(*loads)[0] + bias_, absl::StrCat(fn, " loads")};
    }
    return {0, why};
  }

  // The cycle: the only 4-byte global the heap profile readers load.
  BooksGlobal Cycle(const char* symbol, bool shifted,
                    std::initializer_list<const char*> fns) {
    auto check = [&](uint64_t a) -> absl::Status {
      absl::StatusOr<std::string> v = memory_.ReadAt(a, 4);
      if (!v.ok()) return v.status();
      uint32_t c;
      memcpy(&c, v->data(), 4);
      if ((shifted ? c >> 1 : c) >= kCycleWrap) {
        return absl::DataLossError(absl::StrCat("cycle ", c, " past the wrap"));
      }
      return absl::OkStatus();
    };
    if (std::optional<uint64_t> a = Symbol(symbol)) return {*a, "symtab"};
    std::string why;
    for (const char* fn : fns) {
      absl::StatusOr<std::vector<uint64_t>> loads =
          Loads(binary_, memory_, bias_, fn, 4);
      if (!loads.ok()) {
        gone_ |= IsGone(loads.status());
        continue;
      }
      if (loads->size() != 1) {
        absl::StrAppend(&why, fn, ": ", loads->size(), " 4-byte loads; ");
        continue;
      }
      absl::Status st = check((*loads)[0] + bias_);
      if (st.ok()) return {(*loads)[0] + bias_, absl::StrCat(fn, " loads")};
      gone_ |= IsGone(st);
      absl::StrAppend(&why, fn, ": ", st.message(), "; ");
    }
    return {0, why.empty() ? "no candidates" : why};
  }

  // MemProfileRate: the 8-byte global both profilealloc and allocmcache
  // load (the rate decides whether to sample and seeds nextSample).
  BooksGlobal Rate() {
    if (std::optional<uint64_t> a = Symbol("runtime.MemProfileRate")) {
      return {*a, "symtab"};
    }
    std::map<uint64_t, int> votes;
    std::string why;
    for (const char* fn : {"runtime.profilealloc", "runtime.allocmcache"}) {
      absl::StatusOr<std::vector<uint64_t>> loads =
          Loads(binary_, memory_, bias_, fn, 8);
      if (!loads.ok()) {
        gone_ |= IsGone(loads.status());
        absl::StrAppend(&why, loads.status().message(), "; ");
        continue;
      }
      for (uint64_t c : *loads) ++votes[c];
    }
    std::vector<uint64_t> both;
    for (const auto& [a, n] : votes) {
      if (n == 2) both.push_back(a);
    }
    if (both.size() == 1) {
      return {both[0] + bias_, "runtime.profilealloc+allocmcache loads"};
    }
    return {0, absl::StrCat(why, both.size(),
                            " globals loaded by both profilealloc and "
                            "allocmcache")};
  }

  static bool IsGone(const absl::Status& s) { return absl::IsNotFound(s); }

  const GoBinary& binary_;
  const MemorySource& memory_;
  const uint64_t bias_;
  const bool symtab_;
  bool gone_ = false;
};

}  // namespace

absl::StatusOr<ProfileGlobals> FindProfileGlobals(const GoBinary& binary,
                                                  const MemorySource& memory,
                                                  uint64_t load_bias,
                                                  bool use_symtab) {
  return Finder(binary, memory, load_bias, use_symtab).Run();
}

}  // namespace gspy
