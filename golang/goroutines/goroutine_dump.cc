#include "golang/goroutines/goroutine_dump.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "golang/binary/go_version.h"
#include "golang/goroutines/g_struct.h"
#include "golang/runtime/wait_reasons.h"

namespace gspy {

bool IsSystemGoroutine(const GoBinary& binary, uint64_t startpc) {
  std::optional<FuncInfo> f = binary.FindFunction(startpc);
  if (!f.has_value()) return false;
  return f->name.substr(0, 8) == "runtime." && f->name != "runtime.main" &&
         f->name != "runtime.corostart" &&
         f->name != "runtime.handleAsyncEvent";
}

namespace {

bool IsFree(uint32_t status) {
  return status == kGDead || status == kGIdle || status == kGDeadExtra;
}

enum class Outcome { kRecorded, kFree, kSystem, kChanged, kUnreadable };

// One copy of each distinct label set of a dump, by content (not by the
// g.labels pointer, which the GC may free and reuse while the dump runs).
class LabelSets {
 public:
  std::shared_ptr<const LabelList> Intern(LabelList labels) {
    if (labels.empty()) return nullptr;
    auto it = sets_.find(labels);
    if (it != sets_.end()) return it->second;
    auto shared = std::make_shared<const LabelList>(labels);
    sets_.emplace(std::move(labels), shared);
    return shared;
  }

 private:
  // The key is a second copy of each distinct set: bounded by the distinct
  // sets, not by the goroutines that share them.
  absl::flat_hash_map<LabelList, std::shared_ptr<const LabelList>> sets_;
};

struct Reader {
  const GoBinary& binary;
  const MemorySource& memory;
  const RuntimeLayout& layout;
  uint64_t load_bias;
  const DumpOptions& options;
  const absl::StatusOr<WaitReasons>& reasons;
  LabelSets* label_sets;

  uint64_t Link(uint64_t pc) const {
    return pc >= load_bias ? pc - load_bias : 0;
  }

  // One attempt at the g at `addr`, whose head may have been read already
  // (`head`, else empty). Errors only for a process that is gone.
  absl::StatusOr<Outcome> ReadOnce(uint64_t addr, std::string_view head,
                                   GoroutineRecord* rec,
                                   std::string* problem) const {
    absl::StatusOr<GFields> before =
        head.empty() ? ReadG(memory, layout, addr) : DecodeG(head, layout);
    if (!before.ok()) {
      if (absl::IsNotFound(before.status())) return before.status();
      *problem = std::string(before.status().message());
      return Outcome::kUnreadable;
    }
    if (!PlausibleG(*before)) {
      *problem = absl::StrCat("g at 0x", absl::Hex(addr),
                              " does not look like a goroutine (status ",
                              before->status, ", goid ", before->goid, ")");
      return Outcome::kUnreadable;
    }
    const uint32_t st = before->base_status();
    if (IsFree(st)) return Outcome::kFree;
    if (st == kGCopyStack) return Outcome::kChanged;  // its stack is moving
    *rec = GoroutineRecord{};
    rec->g_addr = addr;
    rec->goid = before->goid;
    rec->status = st;
    rec->scan = (before->status & kGScanBit) != 0;
    rec->gopc = Link(before->gopc);
    rec->startpc = Link(before->startpc);
    rec->parent_goid = before->parent_goid;
    rec->system = IsSystemGoroutine(binary, rec->startpc);
    if (rec->system && !options.include_system) return Outcome::kSystem;
    if (st == kGWaiting || st == kGLeaked) {
      rec->wait_reason =
          reasons.ok()
              ? reasons->Name(before->waitreason)
              : absl::StrCat("waitReason(", int{before->waitreason}, ")");
    }
    if ((st == kGWaiting || st == kGSyscall || st == kGLeaked) &&
        before->waitsince > 0 && options.now_monotonic_ns > 0 &&
        options.now_monotonic_ns >= before->waitsince) {
      rec->wait_nanos = options.now_monotonic_ns - before->waitsince;
    }
    // Counts by state need no second read: the status word is read whole,
    // and a goroutine that moves on meanwhile is as right as a snapshot gets.
    if (options.states_only) return Outcome::kRecorded;
    absl::StatusOr<LabelList> labels =
        ReadLabels(memory, before->labels, layout.labels_layout);
    if (labels.ok()) {
      rec->labels = label_sets->Intern(*std::move(labels));
    } else if (absl::IsNotFound(labels.status())) {
      return labels.status();
    } else {
      rec->labels_error = std::string(labels.status().message());
    }
    if (st != kGRunning) {
      rec->stack_read = true;
      rec->stack = UnwindSaved(
          memory, binary, load_bias,
          SavedContext{before->sched_pc, before->sched_sp, before->sched_bp,
                       before->stack_lo, before->stack_hi},
          options.max_frames);
    }
    absl::StatusOr<GFields> after = ReadG(memory, layout, addr);
    if (!after.ok()) {
      if (absl::IsNotFound(after.status())) return after.status();
      return Outcome::kChanged;
    }
    return before->SameState(*after) ? Outcome::kRecorded : Outcome::kChanged;
  }
};

}  // namespace

absl::StatusOr<GoroutineDump> TakeGoroutineDump(const GoBinary& binary,
                                                const MemorySource& memory,
                                                uint64_t load_bias,
                                                const DumpOptions& options) {
  const absl::StatusOr<RuntimeLayout>& layout = binary.runtime_layout();
  if (!layout.ok()) {
    return absl::FailedPreconditionError(layout.status().message());
  }
  if (layout->g_sched < 0 || layout->g_atomicstatus < 0 || layout->g_goid < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the runtime layout of ", layout->go_version,
                     " lacks g.sched, g.atomicstatus or g.goid"));
  }
  GoroutineDump dump;
  dump.go_version = binary.build_info().go_version;
  absl::StatusOr<AllgsLocation> allgs =
      options.known_allgs != nullptr
          ? absl::StatusOr<AllgsLocation>(*options.known_allgs)
          : FindAllgs(binary, memory, load_bias, *layout);
  if (!allgs.ok()) return allgs.status();
  dump.allgs = *allgs;
  const std::optional<int> minor = GoMinorVersion(dump.go_version);
  const absl::StatusOr<WaitReasons> reasons =
      WaitReasons::ForGoMinor(minor.value_or(0));
  if (!reasons.ok()) {
    dump.warnings.push_back(
        absl::StrCat("wait reasons are numbers: ", reasons.status().message()));
  }

  // The slice header, then the array in one read. allgs only grows and its
  // entries never change (dead g's are reused in place), so a goroutine
  // created after this read is simply not in the dump.
  uint64_t header[2];
  absl::Status s = memory.Read(
      allgs->addr, absl::MakeSpan(reinterpret_cast<char*>(header), 16));
  if (!s.ok()) return s;
  uint64_t len = header[1];
  if (len > options.max_goroutines) {
    dump.warnings.push_back(absl::StrCat("allgs has ", len,
                                         " entries; read the first ",
                                         options.max_goroutines));
    len = options.max_goroutines;
  }
  dump.allgs_len = static_cast<int64_t>(header[1]);
  std::string array(len * 8, '\0');
  s = memory.Read(header[0], absl::MakeSpan(array.data(), array.size()));
  if (!s.ok()) return s;

  // Counts by state need only each g's head: read them in batches (one
  // system call per IOV_MAX goroutines instead of one each). A head that
  // failed is read again on its own below.
  const size_t head_size = GReadSize(*layout);
  std::string heads;
  std::vector<bool> head_ok;
  if (options.states_only && len > 0) {
    heads.assign(len * head_size, '\0');
    std::vector<MemoryRange> ranges;
    ranges.reserve(len);
    for (uint64_t i = 0; i < len; ++i) {
      uint64_t gp;
      std::memcpy(&gp, array.data() + i * 8, 8);
      ranges.push_back(
          {gp, absl::MakeSpan(heads.data() + i * head_size, head_size)});
    }
    if (!memory.ReadMany(ranges, &head_ok).ok()) head_ok.clear();
  }

  LabelSets label_sets;
  const Reader reader{binary,  memory,  *layout,    load_bias,
                      options, reasons, &label_sets};
  int64_t problems_reported = 0;
  for (uint64_t i = 0; i < len; ++i) {
    uint64_t gp;
    std::memcpy(&gp, array.data() + i * 8, 8);
    if (gp == 0 || gp % 8 != 0) {
      ++dump.unreadable;
      continue;
    }
    GoroutineRecord rec;
    Outcome outcome = Outcome::kChanged;
    std::string problem;
    for (int attempt = 0; attempt < std::max(1, options.attempts); ++attempt) {
      const std::string_view head =
          attempt == 0 && i < head_ok.size() && head_ok[i]
              ? std::string_view(heads).substr(i * head_size, head_size)
              : std::string_view();
      absl::StatusOr<Outcome> o = reader.ReadOnce(gp, head, &rec, &problem);
      if (!o.ok()) {
        return absl::NotFoundError(absl::StrCat(
            memory.Describe(),
            " exited during the goroutine dump: ", o.status().message()));
      }
      outcome = *o;
      if (outcome != Outcome::kChanged) break;
      if (attempt == 0) ++dump.retried;
    }
    switch (outcome) {
      case Outcome::kRecorded:
        dump.goroutines.push_back(std::move(rec));
        break;
      case Outcome::kFree:
        ++dump.dead;
        break;
      case Outcome::kSystem:
        ++dump.system_skipped;
        break;
      case Outcome::kChanged:
        ++dump.dropped;
        break;
      case Outcome::kUnreadable:
        ++dump.unreadable;
        if (problems_reported++ < 3) dump.warnings.push_back(problem);
        break;
    }
  }
  if (dump.dropped > 0) {
    dump.warnings.push_back(
        absl::StrCat(dump.dropped, " goroutines changed on every one of ",
                     options.attempts, " reads and are left out"));
  }
  if (dump.unreadable > 0) {
    dump.warnings.push_back(absl::StrCat(
        dump.unreadable, " allgs entries were not readable goroutines"));
  }
  return dump;
}

}  // namespace gspy
