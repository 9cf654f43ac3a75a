#include "daemon/sources/gc/gc_tracker.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bpf/gc_probes.skel.h"
#include "daemon/sources/kernel/monotonic_clock.h"
#include "daemon/sources/kernel/per_cpu_counters.h"
#include "daemon/sources/probes/disassembly.h"
#include "daemon/sources/probes/uprobes.h"
#include "golang/binary/go_version.h"

namespace gspy {
void GcWatch::Take(std::vector<GcPauseRecord>* out) {
  absl::MutexLock lock(&mu_);
  for (GcPauseRecord& r : queue_) out->push_back(std::move(r));
  queue_.clear();
}

uint64_t GcWatch::cycles_completed() const {
  absl::MutexLock lock(&mu_);
  return cycles_completed_;
}

uint64_t GcWatch::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

absl::StatusOr<std::unique_ptr<GcTracker>> GcTracker::Start() {
  std::unique_ptr<GcTracker> t(new GcTracker());
  PossibleCpus();  // before any thread of ours reads a counter
  t->skel_ = gc_probes_bpf__open_and_load();
  if (t->skel_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "loading the GC probes BPF program failed: ", strerror(errno),
        " (needs root or CAP_BPF+CAP_PERFMON)"));
  }
  t->targets_ = std::make_unique<LibbpfMap>(t->skel_->maps.gc_targets);
  // Drained every 20 ms: a GC-heavy process makes hundreds of pauses a
  // second, and a wakeup per event would cost more than the probe hit.
  absl::StatusOr<std::unique_ptr<RingReader>> ring = RingReader::Open(
      bpf_map__fd(t->skel_->maps.gc_events), absl::Milliseconds(20),
      [p = t.get()](const void* data, size_t size) { p->OnEvent(data, size); });
  if (!ring.ok()) return ring.status();
  t->ring_ = *std::move(ring);
  t->monotonic_to_unix_ns_ = MonotonicToUnixOffsetNs();
  return t;
}

GcTracker::~GcTracker() {
  ring_.reset();  // stops delivering events first
  {
    absl::MutexLock lock(&mu_);
    probes_.Clear();
  }
  targets_.reset();
  if (skel_ != nullptr) gc_probes_bpf__destroy(skel_);
}

void GcTracker::Flush() { ring_->Flush(); }

void GcTracker::OnEvent(const void* data, size_t size) {
  if (size < sizeof(gspy_gc_event)) return;
  gspy_gc_event event;
  std::memcpy(&event, data, sizeof(event));
  Handle(event);
}

void GcTracker::Handle(const gspy_gc_event& event) {
  absl::MutexLock lock(&mu_);
  auto it = processes_.find(static_cast<int>(event.tgid));
  if (it == processes_.end()) return;
  Process& p = it->second;
  const uint64_t completed_before = p.pairer.cycles_completed();
  std::optional<StwPause> pause = p.pairer.Add(event);
  if (p.pairer.cycles_completed() != completed_before) {
    for (auto& w : p.watches) {
      absl::MutexLock wl(&w->mu_);
      ++w->cycles_completed_;
    }
  }
  if (!pause.has_value()) return;
  GcPauseRecord record;
  record.pid = it->first;
  record.pause = *pause;
  record.reason = StwReasonName(p.go_minor, pause->reason);
  record.start_unix_nanos =
      static_cast<int64_t>(pause->start_ktime_ns) + monotonic_to_unix_ns_;
  for (auto& w : p.watches) {
    absl::MutexLock wl(&w->mu_);
    if (w->queue_.size() >= GcWatch::kMaxQueued) {
      w->queue_.pop_front();
      ++w->dropped_;
    }
    w->queue_.push_back(record);
  }
  p.history.push_back(std::move(record));
  if (p.history.size() > kHistory) p.history.pop_front();
}

absl::StatusOr<UprobeSet::Links> GcTracker::Attach(const GoProcess& proc) {
  const GoBinary& bin = *proc.binary;
  const std::string path = absl::StrCat("/proc/", proc.pid, "/exe");
  struct Probe {
    const char* function;
    bpf_program* program;
    bool at_returns;
  };
  const Probe probes[] = {
      {"runtime.stopTheWorldWithSema", skel_->progs.gc_stw_stop, false},
      {"runtime.startTheWorldWithSema", skel_->progs.gc_stw_start_entry, false},
      {"runtime.startTheWorldWithSema", skel_->progs.gc_stw_start_ret, true},
      {"runtime.gcStart", skel_->progs.gc_cycle_start, false},
      {"runtime.gcMarkTermination", skel_->progs.gc_mark_termination, false},
  };
  UprobeSet::Links links;
  auto fail = [&](absl::Status s) {
    DestroyLinks(links);
    return s;
  };
  for (const Probe& probe : probes) {
    absl::StatusOr<FuncInfo> fn = FindProbedFunction(proc, probe.function);
    if (!fn.ok()) return fail(fn.status());
    std::vector<uint64_t> addresses = {fn->entry};
    if (probe.at_returns) {
      const uint64_t size = std::min<uint64_t>(fn->end - fn->entry, 1 << 16);
      absl::StatusOr<uint64_t> off = FileOffset(bin, fn->entry);
      if (!off.ok()) return fail(off.status());
      absl::StatusOr<std::string> code = ReadFileAt(path, *off, size);
      if (!code.ok()) return fail(code.status());
      absl::StatusOr<std::vector<uint64_t>> rets =
          FindReturnInstructions(*code, fn->entry, bin.goarch());
      if (!rets.ok()) {
        return fail(absl::FailedPreconditionError(
            absl::StrCat(probe.function, ": ", rets.status().message())));
      }
      addresses = *std::move(rets);
    }
    for (uint64_t addr : addresses) {
      absl::StatusOr<bpf_link*> link =
          AttachUprobe(probe.program, proc, addr, probe.function);
      if (!link.ok()) return fail(link.status());
      links.push_back(*link);
    }
  }
  return links;
}

absl::StatusOr<Subscription> GcTracker::Subscribe(
    const GoProcess& proc, std::shared_ptr<GcWatch> watch) {
  const int minor =
      GoMinorVersion(proc.binary->build_info().go_version).value_or(0);
  absl::MutexLock lock(&mu_);
  if (absl::Status s =
          probes_.Acquire(proc.binary, proc.pid, [&] { return Attach(proc); });
      !s.ok()) {
    return s;
  }
  auto pit = processes_.find(proc.pid);
  if (pit == processes_.end()) {
    const uint32_t tgid = proc.pid;
    const uint8_t one = 1;
    if (const int err = targets_->Put(tgid, one); err != 0) {
      probes_.Release(proc.binary.get(), proc.pid);
      return absl::ResourceExhaustedError(absl::StrCat(
          "adding pid ", proc.pid, " to the GC probes: ", strerror(err)));
    }
    pit = processes_.try_emplace(proc.pid, minor).first;
    pit->second.binary = proc.binary.get();
    if (processes_.size() == 1) ring_->SetActive(true);
  }
  pit->second.watches.push_back(watch);
  return Subscription([this, watch = std::move(watch)] { Unsubscribe(watch); });
}

void GcTracker::Unsubscribe(const std::shared_ptr<GcWatch>& watch) {
  absl::MutexLock lock(&mu_);
  auto pit = processes_.find(watch->pid());
  if (pit == processes_.end()) return;
  Process& p = pit->second;
  auto wit = std::find(p.watches.begin(), p.watches.end(), watch);
  if (wit == p.watches.end()) return;
  p.watches.erase(wit);
  const GoBinary* key = p.binary;
  const int pid = watch->pid();
  if (p.watches.empty()) {
    const uint32_t tgid = pid;
    targets_->Erase(tgid);
    processes_.erase(pit);
    if (processes_.empty()) ring_->SetActive(false);
  }
  probes_.Release(key, pid);
}

std::vector<GcPauseRecord> GcTracker::History(int pid) const {
  absl::MutexLock lock(&mu_);
  auto it = processes_.find(pid);
  if (it == processes_.end()) return {};
  return {it->second.history.begin(), it->second.history.end()};
}

bool GcTracker::Watching(int pid) const {
  absl::MutexLock lock(&mu_);
  return processes_.contains(pid);
}

size_t GcTracker::attached_processes() const {
  absl::MutexLock lock(&mu_);
  return probes_.size();
}

GcCounters GcTracker::counters() const {
  return PerCpuCounters(skel_->maps.gc_counters).Read<GcCounters>();
}

}  // namespace gspy
