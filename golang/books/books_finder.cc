#include "golang/books/books_finder.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "golang/binary/go_version.h"
#include "golang/goroutines/allgs_finder.h"

namespace gspy {
namespace {

constexpr uint64_t kMaxFunctionBytes = 16 << 10;
constexpr int64_t kMaxMs = 100'000;
constexpr int kMaxAllmWalk = 10'000;

struct Code {
  std::string bytes;
  uint64_t entry = 0;  // link-time
};

// The code of runtime function `name`, read from the process.
absl::StatusOr<Code> ReadCode(const GoBinary& binary,
                              const MemorySource& memory, uint64_t load_bias,
                              const char* name) {
  std::optional<FuncInfo> f = binary.FindFunctionByName(name);
  if (!f.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat("no function ", name));
  }
  const uint64_t size = std::min<uint64_t>(
      f->end > f->entry ? f->end - f->entry : 0, kMaxFunctionBytes);
  absl::StatusOr<std::string> code = memory.ReadAt(f->entry + load_bias, size);
  if (!code.ok()) return code.status();
  return Code{*std::move(code), f->entry};
}

absl::StatusOr<std::vector<uint64_t>> Refs(const GoBinary& binary,
                                           const MemorySource& memory,
                                           uint64_t load_bias,
                                           const char* name) {
  absl::StatusOr<Code> code = ReadCode(binary, memory, load_bias, name);
  if (!code.ok()) return code.status();
  return DataReferences(code->bytes, code->entry, binary.goarch());
}

absl::StatusOr<std::vector<RipInsn>> Insns(const GoBinary& binary,
                                           const MemorySource& memory,
                                           uint64_t load_bias,
                                           const char* name) {
  absl::StatusOr<Code> code = ReadCode(binary, memory, load_bias, name);
  if (!code.ok()) return code.status();
  return DecodeRipInsns(code->bytes, code->entry, binary.goarch());
}

absl::StatusOr<uint64_t> ReadU32(const MemorySource& m, uint64_t addr) {
  uint32_t v;
  absl::Status st =
      m.Read(addr, absl::MakeSpan(reinterpret_cast<char*>(&v), 4));
  if (!st.ok()) return st;
  return v;
}

// The process is gone: nothing else is worth trying.
bool Gone(const absl::Status& st) { return absl::IsNotFound(st); }

class Finder {
 public:
  Finder(const GoBinary& binary, const MemorySource& memory, uint64_t load_bias,
         const BooksLayout& layout, BooksFinderOptions options)
      : binary_(binary),
        memory_(memory),
        bias_(load_bias),
        layout_(layout),
        options_(options),
        minor_(GoMinorVersion(binary.build_info().go_version).value_or(0)) {}

  absl::StatusOr<BooksGlobals> Run() {
    BooksGlobals g;
    g.sched = Find(
        "runtime.sched", [&] { return FindSched(); },
        [&](uint64_t a) { return CheckSched(a); });
    if (gone_) return absl::NotFoundError("process gone");
    sched_ = g.sched.addr;
    g.memstats = Find(
        "runtime.memstats", [&] { return FindMemstats(); },
        [&](uint64_t a) { return CheckMemstats(a); });
    g.gc_controller = Find(
        "runtime.gcController", [&] { return FindGcController(); },
        [&](uint64_t a) { return CheckGcController(a); });
    g.allp = Find(
        "runtime.allp", [&] { return FindAllp(); },
        [&](uint64_t a) { return CheckAllp(a); });
    allp_ = g.allp.addr;
    g.gomaxprocs = Find(
        "runtime.gomaxprocs", [&] { return FindGomaxprocs(); },
        [&](uint64_t a) { return CheckGomaxprocs(a); });
    g.ncgocall = Find(
        "runtime.ncgocall", [&] { return FindNcgocall(); },
        [&](uint64_t) { return absl::OkStatus(); });
    g.allm = Find(
        "runtime.allm", [&] { return FindAllm(); },
        [&](uint64_t a) { return CheckAllm(a); });
    if (minor_ >= 21) {
      std::pair<BooksGlobal, BooksGlobal> extra = FindExtraM();
      g.extra_m_in_use = extra.first;
      g.extra_m_length = extra.second;
    } else {
      g.extra_m_in_use.how = g.extra_m_length.how =
          "extraMInUse/extraMLength exist from go1.21";
    }
    if (gone_) return absl::NotFoundError("process gone");
    return g;
  }

 private:
  // A candidate from the finder: link-time address and how it was found.
  struct Candidate {
    uint64_t addr = 0;
    std::string how;
  };

  template <typename FindFn, typename CheckFn>
  BooksGlobal Find(const char* symbol, FindFn find, CheckFn check) {
    BooksGlobal out;
    if (options_.use_symtab) {
      if (std::optional<uint64_t> a = binary_.SymbolAddress(symbol)) {
        absl::Status st = check(*a + bias_);
        if (st.ok()) return BooksGlobal{*a + bias_, "symtab"};
        gone_ |= Gone(st);
        out.how = absl::StrCat("symtab ", symbol, ": ", st.message(), "; ");
      }
    }
    absl::StatusOr<std::vector<Candidate>> cs = find();
    if (!cs.ok()) {
      gone_ |= Gone(cs.status());
      out.how += std::string(cs.status().message());
      return out;
    }
    // The first candidate whose memory passes the check.
    for (const Candidate& c : *cs) {
      absl::Status st = check(c.addr + bias_);
      if (st.ok()) return BooksGlobal{c.addr + bias_, c.how};
      gone_ |= Gone(st);
      if (gone_) return out;
      absl::StrAppend(&out.how, c.how, " gave 0x", absl::Hex(c.addr), ": ",
                      st.message(), "; ");
    }
    if (cs->empty()) out.how += "no candidates";
    return out;
  }

  // A struct base pinned by two field offsets in one of `functions`.
  absl::StatusOr<std::vector<Candidate>> ByPair(
      std::initializer_list<const char*> functions, int32_t off1, int32_t off2,
      const char* what) {
    if (off1 < 0 || off2 < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("no layout offsets to find ", what));
    }
    std::string tried;
    for (const char* fn : functions) {
      absl::StatusOr<std::vector<uint64_t>> refs =
          Refs(binary_, memory_, bias_, fn);
      if (!refs.ok()) {
        if (Gone(refs.status())) return refs.status();
        absl::StrAppend(&tried, refs.status().message(), "; ");
        continue;
      }
      std::vector<Candidate> out;
      for (uint64_t b : BasesFromPair(*refs, off1, off2)) {
        out.push_back(Candidate{b, absl::StrCat(fn, " refs")});
      }
      if (!out.empty()) return out;
      absl::StrAppend(&tried, fn, ": no pair +", off1, "/+", off2, "; ");
    }
    return absl::FailedPreconditionError(
        absl::StrCat(what, " not found: ", tried));
  }

  bool InSched(uint64_t link_addr) const {
    if (sched_ == 0 || layout_.sched_size <= 0) return false;
    const uint64_t s = sched_ - bias_;
    return link_addr >= s && link_addr < s + layout_.sched_size;
  }

  absl::StatusOr<std::vector<Candidate>> FindSched() {
    return ByPair({"runtime.checkmcount", "runtime.mexit"}, layout_.sched_mnext,
                  layout_.sched_nmfreed, "runtime.sched");
  }
  absl::Status CheckSched(uint64_t a) {
    absl::StatusOr<uint64_t> mnext = memory_.ReadU64(a + layout_.sched_mnext);
    if (!mnext.ok()) return mnext.status();
    absl::StatusOr<uint64_t> freed = memory_.ReadU64(a + layout_.sched_nmfreed);
    if (!freed.ok()) return freed.status();
    const int64_t ms = static_cast<int64_t>(*mnext - *freed);
    if (ms < 1 || ms > kMaxMs) {
      return absl::DataLossError(absl::StrCat("mnext-nmfreed=", ms));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Candidate>> FindMemstats() {
    return ByPair({"runtime.gcMarkTermination"}, layout_.mstats_numgc,
                  layout_.mstats_pause_ns, "runtime.memstats");
  }
  absl::Status CheckMemstats(uint64_t a) {
    absl::StatusOr<uint64_t> numgc = ReadU32(memory_, a + layout_.mstats_numgc);
    if (!numgc.ok()) return numgc.status();
    absl::StatusOr<uint64_t> forced =
        ReadU32(memory_, a + layout_.mstats_numforcedgc);
    if (!forced.ok()) return forced.status();
    if (*forced > *numgc) {
      return absl::DataLossError(
          absl::StrCat("numforcedgc ", *forced, " > numgc ", *numgc));
    }
    if (*numgc == 0) return absl::OkStatus();
    // gcMarkTermination writes the same unix time to both.
    absl::StatusOr<uint64_t> end = memory_.ReadU64(
        a + layout_.mstats_pause_end + 8 * ((*numgc - 1) % 256));
    if (!end.ok()) return end.status();
    absl::StatusOr<uint64_t> last =
        memory_.ReadU64(a + layout_.mstats_last_gc_unix);
    if (!last.ok()) return last.status();
    if (*end != *last) {
      return absl::DataLossError("pause_end of the last cycle != last_gc_unix");
    }
    return absl::OkStatus();
  }

  // Receivers of gcControllerState methods: `LEAQ runtime.gcController(SB),
  // AX; CALL runtime.(*gcControllerState).M` (AX is the first argument of
  // Go's register ABI). The callee's name comes from the pclntab, which
  // stripped binaries keep, so this names the struct, not a look-alike.
  std::vector<Candidate> GcControllerReceivers() {
    std::map<uint64_t, int> count;
    for (const char* fn :
         {"runtime.gcinit", "runtime.gcStart", "runtime.gcMarkTermination",
          "runtime.setGCPercent", "runtime.setMemoryLimit",
          "runtime.gcControllerCommit", "runtime.gcPaceScavenger"}) {
      absl::StatusOr<std::vector<RipInsn>> insns =
          Insns(binary_, memory_, bias_, fn);
      if (!insns.ok()) continue;
      uint64_t rax = 0;  // the address a lea put in RAX, until overwritten
      for (const RipInsn& i : *insns) {
        if (i.mnemonic == "call" && i.has_imm && rax != 0) {
          std::optional<FuncInfo> callee =
              binary_.FindFunction(static_cast<uint64_t>(i.imm));
          if (callee.has_value() &&
              callee->name.rfind("runtime.(*gcControllerState).", 0) == 0) {
            ++count[rax];
          }
          rax = 0;
          continue;
        }
        if (i.reg0 == X86_REG_RAX || i.reg0 == X86_REG_EAX) {
          rax = i.mnemonic == "lea" ? i.target : 0;
        }
      }
    }
    std::vector<std::pair<int, uint64_t>> by_count;
    by_count.reserve(count.size());
    for (const auto& [addr, n] : count) by_count.push_back({n, addr});
    std::sort(by_count.rbegin(), by_count.rend());
    std::vector<Candidate> out;
    out.reserve(by_count.size());
    for (const auto& [n, addr] : by_count) {
      out.push_back(
          Candidate{addr, absl::StrCat("receiver of ", n,
                                       " (*gcControllerState) method calls")});
    }
    return out;
  }

  // Method receivers first; then bases pinned by gcStart's pair, which
  // alone also matches other structs' fields (runtime.work has plenty),
  // ranked by how many gcControllerState fields the functions touch.
  absl::StatusOr<std::vector<Candidate>> FindGcController() {
    if (layout_.gc_percent < 0 || layout_.gc_heap_live < 0) {
      return absl::FailedPreconditionError("no gcController offsets");
    }
    std::vector<uint64_t> all;
    std::vector<std::pair<uint64_t, std::string>> bases;
    std::string tried;
    for (const char* fn : {"runtime.gcStart", "runtime.gcMarkTermination",
                           "runtime.gcControllerCommit"}) {
      absl::StatusOr<std::vector<uint64_t>> refs =
          Refs(binary_, memory_, bias_, fn);
      if (!refs.ok()) {
        if (Gone(refs.status())) return refs.status();
        absl::StrAppend(&tried, refs.status().message(), "; ");
        continue;
      }
      all.insert(all.end(), refs->begin(), refs->end());
      for (uint64_t b :
           BasesFromPair(*refs, layout_.gc_percent, layout_.gc_heap_live)) {
        bases.emplace_back(b, absl::StrCat(fn, " refs"));
      }
    }
    absl::flat_hash_set<uint64_t> set(all.begin(), all.end());
    const int32_t fields[] = {layout_.gc_percent,
                              layout_.gc_memory_limit,
                              layout_.gc_heap_goal,
                              layout_.gc_percent_heap_goal,
                              layout_.gc_sweep_dist_min_trigger,
                              layout_.gc_triggered,
                              layout_.gc_heap_live,
                              layout_.gc_heap_marked,
                              layout_.gc_heap_free,
                              layout_.gc_total_alloc,
                              layout_.gc_total_free,
                              layout_.gc_mapped_ready};
    std::vector<std::pair<int, Candidate>> scored;
    absl::flat_hash_set<uint64_t> seen;
    for (const auto& [b, how] : bases) {
      if (!seen.insert(b).second) continue;
      int score = 0;
      for (int32_t off : fields) score += off >= 0 && set.contains(b + off);
      scored.push_back(
          {score, Candidate{b, absl::StrCat(how, " (", score, " fields)")}});
    }
    std::stable_sort(
        scored.begin(), scored.end(),
        [](const auto& x, const auto& y) { return x.first > y.first; });
    std::vector<Candidate> out = GcControllerReceivers();
    for (auto& [score, c] : scored) out.push_back(std::move(c));
    if (out.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("runtime.gcController not found: ", tried));
    }
    return out;
  }
  absl::Status CheckGcController(uint64_t a) {
    absl::StatusOr<uint64_t> pct = ReadU32(memory_, a + layout_.gc_percent);
    if (!pct.ok()) return pct.status();
    const int32_t p = static_cast<int32_t>(*pct);
    if (p < -1 || p > 1'000'000) {
      return absl::DataLossError(absl::StrCat("gcPercent ", p));
    }
    // The goal from GOGC is at least the marked heap (^0 when GOGC=off).
    const int32_t goal_off = layout_.gc_percent_heap_goal >= 0
                                 ? layout_.gc_percent_heap_goal
                                 : layout_.gc_heap_goal;
    absl::StatusOr<uint64_t> goal = memory_.ReadU64(a + goal_off);
    if (!goal.ok()) return goal.status();
    absl::StatusOr<uint64_t> marked =
        memory_.ReadU64(a + layout_.gc_heap_marked);
    if (!marked.ok()) return marked.status();
    if (p >= 0 && *goal < *marked) {
      return absl::DataLossError(absl::StrCat(
          "heap goal ", *goal, " below the marked heap ", *marked));
    }
    if (p == -1 && *goal != ~uint64_t{0} && layout_.gc_percent_heap_goal >= 0) {
      return absl::DataLossError("GOGC=off but a finite GOGC goal");
    }
    // 1.19+: the heap sizes obey memoryLimitHeapGoal's invariant (retried
    // once for a read between two updates).
    if (layout_.gc_mapped_ready >= 0) {
      bool consistent = false;
      for (int i = 0; i < 2 && !consistent; ++i) {
        uint64_t v[4];
        for (int k = 0; k < 4; ++k) {
          const int32_t off[] = {layout_.gc_heap_free, layout_.gc_total_alloc,
                                 layout_.gc_total_free,
                                 layout_.gc_mapped_ready};
          absl::StatusOr<uint64_t> x = memory_.ReadU64(a + off[k]);
          if (!x.ok()) return x.status();
          v[k] = *x;
        }
        consistent = v[1] >= v[2] && v[3] > 0 && v[3] < (uint64_t{1} << 48) &&
                     v[0] + (v[1] - v[2]) <= v[3];
      }
      if (!consistent) {
        return absl::DataLossError("heap sizes do not add up");
      }
    }
    if (layout_.gc_memory_limit >= 0) {
      absl::StatusOr<uint64_t> lim =
          memory_.ReadU64(a + layout_.gc_memory_limit);
      if (!lim.ok()) return lim.status();
      if (static_cast<int64_t>(*lim) < 0) {
        return absl::DataLossError("negative memoryLimit");
      }
    }
    return absl::OkStatus();
  }

  // allp and allp+8 (its len) are both loaded by enlistWorker.
  absl::StatusOr<std::vector<Candidate>> FindAllp() {
    absl::StatusOr<std::vector<RipInsn>> insns = Insns(
        binary_, memory_, bias_, "runtime.(*gcControllerState).enlistWorker");
    if (!insns.ok()) return insns.status();
    std::vector<uint64_t> qwords;
    for (const RipInsn& i : *insns) {
      if (i.target != 0 && i.mem_size == 8 && !InSched(i.target)) {
        qwords.push_back(i.target);
      }
    }
    std::vector<Candidate> out;
    for (uint64_t b : BasesFromPair(qwords, 0, 8)) {
      out.push_back(
          Candidate{b, "runtime.(*gcControllerState).enlistWorker refs"});
    }
    return out;
  }
  absl::Status CheckAllp(uint64_t a) {
    uint64_t h[3];
    absl::Status st =
        memory_.Read(a, absl::MakeSpan(reinterpret_cast<char*>(h), 24));
    if (!st.ok()) return st;
    if (h[0] == 0 || h[0] % 8 != 0 || h[1] == 0 || h[1] > h[2] ||
        h[2] > (1u << 20)) {
      return absl::DataLossError(
          absl::StrCat("not a []*p: len=", h[1], " cap=", h[2]));
    }
    allp_len_ = h[1];
    return absl::OkStatus();
  }

  // `CMPL runtime.gomaxprocs(SB), $0x1`, the first of its kind.
  absl::StatusOr<std::vector<Candidate>> FindGomaxprocs() {
    absl::StatusOr<std::vector<RipInsn>> insns = Insns(
        binary_, memory_, bias_, "runtime.(*gcControllerState).enlistWorker");
    if (!insns.ok()) return insns.status();
    for (const RipInsn& i : *insns) {
      if (i.mnemonic == "cmp" && i.target != 0 && i.mem_size == 4 &&
          i.has_imm && i.imm == 1) {
        return std::vector<Candidate>{
            {i.target, "enlistWorker's cmp gomaxprocs, 1"}};
      }
    }
    return absl::FailedPreconditionError(
        "runtime.gomaxprocs not found: no cmp dword [rip+X], 1 in "
        "enlistWorker");
  }
  absl::Status CheckGomaxprocs(uint64_t a) {
    absl::StatusOr<uint64_t> v = ReadU32(memory_, a);
    if (!v.ok()) return v.status();
    const int32_t n = static_cast<int32_t>(*v);
    const uint64_t max = allp_len_ != 0 ? allp_len_ : 1u << 20;
    if (n < 1 || static_cast<uint64_t>(n) > max) {
      return absl::DataLossError(
          absl::StrCat("gomaxprocs ", n, " outside 1..", max));
    }
    return absl::OkStatus();
  }

  // mexit folds a dead M's count in: `LEAQ ncgocall, R; LOCK XADDQ S, (R)`.
  absl::StatusOr<std::vector<Candidate>> FindNcgocall() {
    absl::StatusOr<std::vector<RipInsn>> insns =
        Insns(binary_, memory_, bias_, "runtime.mexit");
    if (!insns.ok()) return insns.status();
    for (size_t k = 0; k + 1 < insns->size(); ++k) {
      const RipInsn& lea = (*insns)[k];
      const RipInsn& next = (*insns)[k + 1];
      if (lea.mnemonic == "lea" && lea.target != 0 && !InSched(lea.target) &&
          absl::StrContains(next.mnemonic, "xadd") &&
          next.mem_base == lea.reg0 && lea.reg0 != 0) {
        return std::vector<Candidate>{{lea.target, "runtime.mexit's lea+xadd"}};
      }
    }
    return absl::FailedPreconditionError(
        "runtime.ncgocall not found: no lea+lock xadd in runtime.mexit");
  }

  absl::StatusOr<std::vector<Candidate>> FindAllm() {
    absl::StatusOr<std::vector<RipInsn>> insns =
        Insns(binary_, memory_, bias_, "runtime.mcommoninit");
    if (!insns.ok()) return insns.status();
    std::string tried;
    absl::flat_hash_set<uint64_t> seen;
    for (const RipInsn& i : *insns) {
      if (i.target == 0 || InSched(i.target) || !seen.insert(i.target).second ||
          !(i.mnemonic == "lea" || (i.mnemonic == "mov" && i.mem_size == 8))) {
        continue;
      }
      absl::Status st = CheckAllm(i.target + bias_);
      if (st.ok()) {
        return std::vector<Candidate>{{i.target, "runtime.mcommoninit refs"}};
      }
      if (Gone(st)) return st;
      absl::StrAppend(&tried, "0x", absl::Hex(i.target), ": ", st.message(),
                      "; ");
    }
    return absl::FailedPreconditionError(
        absl::StrCat("runtime.allm not found: ", tried));
  }
  // The alllink chain from *a ends within bounds, and has as many Ms as
  // sched says exist (mnext - nmfreed, give or take one being made).
  absl::Status CheckAllm(uint64_t a) {
    if (layout_.m_alllink < 0) {
      return absl::FailedPreconditionError("no m.alllink");
    }
    absl::StatusOr<uint64_t> mp = memory_.ReadU64(a);
    if (!mp.ok()) return mp.status();
    int n = 0;
    absl::flat_hash_set<uint64_t> seen;
    for (uint64_t m = *mp; m != 0; ++n) {
      if (m % 8 != 0 || n >= kMaxAllmWalk || !seen.insert(m).second) {
        return absl::DataLossError("not an M list");
      }
      absl::StatusOr<uint64_t> next = memory_.ReadU64(m + layout_.m_alllink);
      if (!next.ok()) {
        return Gone(next.status()) ? next.status()
                                   : absl::DataLossError("unreadable M");
      }
      m = *next;
    }
    if (n == 0) return absl::DataLossError("empty M list");
    if (sched_ != 0) {
      absl::StatusOr<uint64_t> mnext =
          memory_.ReadU64(sched_ + layout_.sched_mnext);
      absl::StatusOr<uint64_t> freed =
          memory_.ReadU64(sched_ + layout_.sched_nmfreed);
      if (mnext.ok() && freed.ok()) {
        const int64_t ms = static_cast<int64_t>(*mnext - *freed);
        if (n < ms - 2 || n > ms + 2) {
          return absl::DataLossError(
              absl::StrCat(n, " Ms listed, sched counts ", ms));
        }
      }
    }
    return absl::OkStatus();
  }

  // checkmcount: mcount() - extraMInUse.Load() - extraMLength.Load(); after
  // the sched refs, the 32-bit loads are those two, in that order.
  std::pair<BooksGlobal, BooksGlobal> FindExtraM() {
    BooksGlobal in_use, length;
    if (options_.use_symtab) {
      auto a = binary_.SymbolAddress("runtime.extraMInUse");
      auto b = binary_.SymbolAddress("runtime.extraMLength");
      if (a && b) {
        in_use = {*a + bias_, "symtab"};
        length = {*b + bias_, "symtab"};
        if (CheckSmall(in_use.addr).ok() && CheckSmall(length.addr).ok()) {
          return {in_use, length};
        }
      }
    }
    in_use = length = BooksGlobal{};
    absl::StatusOr<std::vector<RipInsn>> insns =
        Insns(binary_, memory_, bias_, "runtime.checkmcount");
    if (!insns.ok()) {
      gone_ |= Gone(insns.status());
      in_use.how = length.how = std::string(insns.status().message());
      return {in_use, length};
    }
    std::vector<uint64_t> words;
    for (const RipInsn& i : *insns) {
      if (i.mnemonic == "mov" && i.target != 0 && i.mem_size == 4 &&
          !InSched(i.target) &&
          std::find(words.begin(), words.end(), i.target) == words.end()) {
        words.push_back(i.target);
      }
    }
    if (words.size() < 2 || !CheckSmall(words[0] + bias_).ok() ||
        !CheckSmall(words[1] + bias_).ok()) {
      in_use.how = length.how =
          "extraMInUse/extraMLength not found in runtime.checkmcount";
      return {in_use, length};
    }
    return {BooksGlobal{words[0] + bias_, "runtime.checkmcount refs"},
            BooksGlobal{words[1] + bias_, "runtime.checkmcount refs"}};
  }
  absl::Status CheckSmall(uint64_t a) {
    absl::StatusOr<uint64_t> v = ReadU32(memory_, a);
    if (!v.ok()) return v.status();
    if (*v > kMaxMs) return absl::DataLossError("too large");
    return absl::OkStatus();
  }

  const GoBinary& binary_;
  const MemorySource& memory_;
  const uint64_t bias_;
  const BooksLayout& layout_;
  const BooksFinderOptions options_;
  const int minor_;
  uint64_t sched_ = 0;  // runtime address, once found
  uint64_t allp_ = 0;
  uint64_t allp_len_ = 0;
  bool gone_ = false;
};

}  // namespace

std::vector<uint64_t> BasesFromPair(const std::vector<uint64_t>& refs,
                                    int32_t off1, int32_t off2) {
  absl::flat_hash_set<uint64_t> set(refs.begin(), refs.end());
  std::vector<uint64_t> out;
  for (uint64_t r : refs) {
    if (r < static_cast<uint64_t>(off1)) continue;
    const uint64_t base = r - off1;
    if (base != 0 && set.contains(base + off2) &&
        std::find(out.begin(), out.end(), base) == out.end()) {
      out.push_back(base);
    }
  }
  return out;
}

absl::StatusOr<std::vector<RipInsn>> DecodeRipInsns(std::string_view code,
                                                    uint64_t address,
                                                    std::string_view goarch) {
  if (goarch != "amd64") {
    return absl::UnimplementedError(
        absl::StrCat("decoding ", std::string(goarch), " instructions"));
  }
  csh handle;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) {
    return absl::InternalError("capstone: cs_open failed");
  }
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  std::vector<RipInsn> out;
  const auto* bytes = reinterpret_cast<const uint8_t*>(code.data());
  size_t size = code.size();
  uint64_t pc = address;
  cs_insn* insn = cs_malloc(handle);
  while (size > 0) {
    if (!cs_disasm_iter(handle, &bytes, &size, &pc, insn)) {
      ++bytes;  // data in text, or an instruction Capstone does not know
      --size;
      ++pc;
      continue;
    }
    RipInsn r;
    r.mnemonic = insn->mnemonic;
    const cs_x86& x = insn->detail->x86;
    for (int i = 0; i < x.op_count; ++i) {
      const cs_x86_op& op = x.operands[i];
      if (op.type == X86_OP_MEM) {
        r.mem_size = op.size;
        if (op.mem.base == X86_REG_RIP && op.mem.index == X86_REG_INVALID) {
          r.target = insn->address + insn->size + op.mem.disp;
        } else {
          r.mem_base = op.mem.base;
        }
      } else if (op.type == X86_OP_REG && i == 0) {
        r.reg0 = op.reg;
      } else if (op.type == X86_OP_IMM) {
        r.has_imm = true;
        r.imm = op.imm;
      }
    }
    out.push_back(std::move(r));
  }
  cs_free(insn, 1);
  cs_close(&handle);
  return out;
}

absl::StatusOr<BooksGlobals> FindBooksGlobals(const GoBinary& binary,
                                              const MemorySource& memory,
                                              uint64_t load_bias,
                                              const BooksLayout& layout,
                                              BooksFinderOptions options) {
  return Finder(binary, memory, load_bias, layout, options).Run();
}

}  // namespace gspy
