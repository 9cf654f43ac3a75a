#include "daemon/sources/gc/gc_tracker.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bpf/gc_probes.skel.h"
#include "daemon/sources/kernel/per_cpu_counters.h"
#include "daemon/sources/probes/disassembly.h"
#include "daemon/sources/probes/uprobes.h"
#include "golang/binary/go_version.h"

namespace gspy {
namespace {

int64_t ClockNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

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
  t->skel_ = gc_probes_bpf__open_and_load();
  if (t->skel_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "loading the GC probes BPF program failed: ", strerror(errno),
        " (needs root or CAP_BPF+CAP_PERFMON)"));
  }
  t->ring_ = ring_buffer__new(bpf_map__fd(t->skel_->maps.gc_events),
                              &GcTracker::OnEvent, t.get(), nullptr);
  if (t->ring_ == nullptr) {
    return absl::InternalError(absl::StrCat("ring buffer: ", strerror(errno)));
  }
  t->monotonic_to_unix_ns_ = ClockNs(CLOCK_REALTIME) - ClockNs(CLOCK_MONOTONIC);
  t->poller_ = std::thread([p = t.get()] { p->PollLoop(); });
  return t;
}

GcTracker::~GcTracker() {
  {
    absl::MutexLock lock(&mu_);  // wakes the poller's wait
    stop_ = true;
  }
  if (poller_.joinable()) poller_.join();
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, b] : binaries_) {
      DestroyLinks(b.links);
    }
    binaries_.clear();
  }
  if (ring_ != nullptr) ring_buffer__free(ring_);
  if (skel_ != nullptr) gc_probes_bpf__destroy(skel_);
}

// Drains the ring every 20 ms while some process is watched, and sleeps
// otherwise; the BPF side sends no wakeup per event (a GC-heavy process
// makes hundreds of pauses a second, and each wakeup of gspyd costs the
// machine more than the probe hit).
void GcTracker::PollLoop() {
  while (!stop_) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &GcTracker::ActiveOrStopping));
    }
    absl::SleepFor(absl::Milliseconds(20));
    Flush();
  }
}

void GcTracker::Flush() {
  absl::MutexLock lock(&ring_mu_);
  ring_buffer__consume(ring_);
}

int GcTracker::OnEvent(void* ctx, void* data, size_t size) {
  if (size < sizeof(gspy_gc_event)) return 0;
  gspy_gc_event event;
  std::memcpy(&event, data, sizeof(event));
  static_cast<GcTracker*>(ctx)->Handle(event);
  return 0;
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

absl::StatusOr<std::vector<bpf_link*>> GcTracker::Attach(
    const GoProcess& proc) {
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
  std::vector<bpf_link*> links;
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

absl::StatusOr<std::shared_ptr<GcWatch>> GcTracker::Watch(
    const GoProcess& proc) {
  const int minor =
      GoMinorVersion(proc.binary->build_info().go_version).value_or(0);
  auto watch = std::make_shared<GcWatch>(proc.pid);
  absl::MutexLock lock(&mu_);
  const GoBinary* key = proc.binary.get();
  auto bit = binaries_.find(key);
  if (bit == binaries_.end()) {
    absl::StatusOr<std::vector<bpf_link*>> links = Attach(proc);
    if (!links.ok()) return links.status();
    Binary b;
    b.binary = proc.binary;
    b.links = *std::move(links);
    bit = binaries_.emplace(key, std::move(b)).first;
  }
  ++bit->second.refs;
  auto pit = processes_.find(proc.pid);
  if (pit == processes_.end()) {
    pit = processes_.try_emplace(proc.pid, minor).first;
    pit->second.binary = key;
    const uint32_t tgid = proc.pid;
    const uint8_t one = 1;
    if (bpf_map__update_elem(skel_->maps.gc_targets, &tgid, sizeof(tgid), &one,
                             sizeof(one), BPF_ANY) != 0) {
      processes_.erase(pit);
      if (--bit->second.refs == 0) {
        DestroyLinks(bit->second.links);
        binaries_.erase(bit);
      }
      return absl::ResourceExhaustedError(absl::StrCat(
          "adding pid ", proc.pid, " to the GC probes: ", strerror(errno)));
    }
  }
  pit->second.watches.push_back(watch);
  return watch;
}

void GcTracker::Unwatch(const std::shared_ptr<GcWatch>& watch) {
  absl::MutexLock lock(&mu_);
  auto pit = processes_.find(watch->pid());
  if (pit == processes_.end()) return;
  Process& p = pit->second;
  auto wit = std::find(p.watches.begin(), p.watches.end(), watch);
  if (wit == p.watches.end()) return;
  p.watches.erase(wit);
  const GoBinary* key = p.binary;
  if (p.watches.empty()) {
    const uint32_t tgid = watch->pid();
    bpf_map__delete_elem(skel_->maps.gc_targets, &tgid, sizeof(tgid), 0);
    processes_.erase(pit);
  }
  auto bit = binaries_.find(key);
  if (bit != binaries_.end() && --bit->second.refs == 0) {
    DestroyLinks(bit->second.links);
    binaries_.erase(bit);
  }
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

size_t GcTracker::attached_binaries() const {
  absl::MutexLock lock(&mu_);
  return binaries_.size();
}

GcCounters GcTracker::counters() const {
  return PerCpuCounters(skel_->maps.gc_counters).Read<GcCounters>();
}

}  // namespace gspy
