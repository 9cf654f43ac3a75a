#include "daemon/sources/block/block_tracker.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "bpf/block_probes.skel.h"
#include "daemon/sources/kernel/monotonic_clock.h"
#include "daemon/sources/kernel/per_cpu_counters.h"
#include "daemon/sources/probes/disassembly.h"
#include "daemon/sources/probes/uprobes.h"
#include "golang/binary/go_version.h"

namespace gspy {
absl::StatusOr<std::unique_ptr<BlockTracker>> BlockTracker::Start(
    BlockTrackerOptions options) {
  std::unique_ptr<BlockTracker> t(new BlockTracker(options));
  PossibleCpus();  // before any thread of ours reads a counter
  t->skel_ = block_probes_bpf__open_and_load();
  if (t->skel_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "loading the block probes BPF program failed: ", strerror(errno),
        " (needs root or CAP_BPF+CAP_PERFMON)"));
  }
  t->targets_ = std::make_unique<LibbpfMap>(t->skel_->maps.block_targets);
  t->config_ = std::make_unique<LibbpfMap>(t->skel_->maps.block_config);
  t->parked_ = std::make_unique<LibbpfMap>(t->skel_->maps.parked);
  t->stack_map_ = std::make_unique<LibbpfMap>(t->skel_->maps.block_stacks);
  t->maps_ = std::make_unique<BlockMaps>(t->targets_.get(), t->config_.get(),
                                         t->parked_.get(), t->stack_map_.get());
  // Drained every 20 ms: the BPF side writes without waking us (a wakeup
  // per wait cost a lot at tens of thousands of waits a second).
  absl::StatusOr<std::unique_ptr<RingReader>> ring = RingReader::Open(
      bpf_map__fd(t->skel_->maps.block_events), absl::Milliseconds(20),
      [p = t.get()](const void* data, size_t size) { p->OnEvent(data, size); });
  if (!ring.ok()) return ring.status();
  t->ring_ = *std::move(ring);
  t->maps_->SetRecording(true, 1);
  {
    absl::MutexLock lock(&t->mu_);
    t->trap_.BeginContinuous(0);
  }
  t->duty_cycler_ = std::thread([p = t.get()] { p->DutyCycleLoop(); });
  if (options.trap.max_parks_per_second > 0) {
    t->trap_cycler_ = std::thread([p = t.get()] { p->TrapCycleLoop(); });
  }
  return t;
}

BlockTracker::~BlockTracker() {
  {
    absl::MutexLock lock(&mu_);  // wakes the loops' waits
    stop_ = true;
  }
  if (duty_cycler_.joinable()) duty_cycler_.join();
  if (trap_cycler_.joinable()) trap_cycler_.join();
  ring_.reset();  // stops delivering waits
  {
    absl::MutexLock lock(&mu_);
    probes_.Clear();
  }
  maps_.reset();
  targets_.reset();
  config_.reset();
  parked_.reset();
  stack_map_.reset();
  if (skel_ != nullptr) block_probes_bpf__destroy(skel_);
}

void BlockTracker::AwaitSinks() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &BlockTracker::ActiveOrStopping));
}

void BlockTracker::Flush() { ring_->Flush(); }

// Every slot, asks the park budget whether new parks are recorded, and
// writes its decision when it changes. Each slot is measured from the
// previous decision: on a busy machine this thread wakes late, and the
// budget keeps the share of time recorded, not of slots.
void BlockTracker::DutyCycleLoop() {
  ParkBudget budget(options_.max_parks_per_second, options_.slot, Parks());
  uint64_t slot_start_ns = MonotonicNowNs();
  while (!stop_) {
    const uint64_t before_await_ns = MonotonicNowNs();
    AwaitSinks();
    const uint64_t after_await_ns = MonotonicNowNs();
    // Idle without sinks (no probes, no parks): the time waited is no slot.
    if (after_await_ns - before_await_ns >
        static_cast<uint64_t>(absl::ToInt64Nanoseconds(options_.slot))) {
      slot_start_ns = after_await_ns;
    }
    absl::SleepFor(options_.slot);
    budget.set_scale(budget_scale_.load());
    const uint64_t now_ns = MonotonicNowNs();
    const ParkBudget::Decision d = budget.EndSlot(
        Parks(),
        absl::Nanoseconds(static_cast<int64_t>(now_ns - slot_start_ns)));
    if (d.changed) maps_->SetRecording(d.recording, d.fraction);
    slot_start_ns = now_ns;
  }
}

void BlockTracker::OnEvent(const void* data, size_t size) {
  constexpr size_t kHeader = offsetof(gspy_block_event, labels);
  if (size < kHeader) return;
  gspy_block_event event;
  std::memset(&event, 0, sizeof(event));
  std::memcpy(&event, data, std::min(size, sizeof(event)));
  const size_t labels_sent = (size - kHeader) / sizeof(gspy_label);
  if (event.label_count > labels_sent) event.label_count = labels_sent;
  Handle(event);
}

const std::vector<uint64_t>* BlockTracker::Stack(int32_t id) {
  if (id < 0) return nullptr;
  auto it = stacks_.find(id);
  if (it != stacks_.end()) return &it->second;
  std::vector<uint64_t> frames;
  if (!maps_->Stack(id, &frames)) return nullptr;
  return &stacks_.emplace(id, std::move(frames)).first->second;
}

void BlockTracker::Handle(const gspy_block_event& event) {
  absl::MutexLock lock(&mu_);
  auto it = processes_.find(static_cast<int>(event.tgid));
  if (it == processes_.end()) return;
  const Process& p = it->second;
  gspy_block_event weighted;
  const gspy_block_event* wait = &event;
  if (options_.trap.max_parks_per_second > 0) {
    const TrapVerdict verdict = trap_.Judge(event.park_ns, event.run_ns);
    if (!verdict.keep) return;
    if (verdict.weight != 1) {
      weighted = event;
      const double milli = event.weight_milli > 0 ? event.weight_milli : 1000;
      weighted.weight_milli =
          static_cast<uint32_t>(std::lround(milli * verdict.weight));
      wait = &weighted;
    }
  }
  const std::vector<uint64_t>* fp_walk = Stack(event.stack_id);
  // The probe sits after gopark's frame setup: the frame-pointer walk from
  // there is the whole stack.
  std::vector<uint64_t>& stack = scratch_stack_;
  stack.clear();
  if (fp_walk != nullptr) stack = *fp_walk;
  if (!stack.empty()) stack[0] = p.gopark_entry;
  for (BlockSink* sink : p.sinks) sink->AddWait(*wait, stack);

  const uint64_t end = event.ready_ns != 0 ? event.ready_ns : event.run_ns;
  if (end >= event.park_ns) {
    const double weight =
        wait->weight_milli > 0 ? wait->weight_milli / 1000.0 : 1.0;
    Totals& t =
        totals_[event.tgid]
            .by_reason[p.reasons.ok()
                           ? p.reasons->Name(event.reason)
                           : absl::StrCat("waitReason(", event.reason, ")")];
    t.waits += weight;
    t.seconds += weight * static_cast<double>(end - event.park_ns) / 1e9;
  }
}

namespace {

// Where the gopark probes go: after its prologue (see FindFrameSetupEnd) and
// after its call to mcall (see FindReturnsFromCallsTo).
struct GoparkProbes {
  uint64_t parked = 0;
  std::vector<uint64_t> resumed;
};

absl::StatusOr<GoparkProbes> FindGoparkProbes(const GoProcess& proc,
                                              const FuncInfo& gopark) {
  const uint64_t size = std::min<uint64_t>(gopark.end - gopark.entry, 1 << 16);
  absl::StatusOr<uint64_t> off = FileOffset(*proc.binary, gopark.entry);
  if (!off.ok()) return off.status();
  absl::StatusOr<std::string> code =
      ReadFileAt(absl::StrCat("/proc/", proc.pid, "/exe"), *off, size);
  if (!code.ok()) return code.status();
  auto fail = [&](const absl::Status& s) {
    return absl::FailedPreconditionError(
        absl::StrCat("runtime.gopark of pid ", proc.pid, " (",
                     proc.binary->build_info().go_version, "): ", s.message()));
  };
  absl::StatusOr<uint64_t> parked =
      FindFrameSetupEnd(*code, gopark.entry, proc.binary->goarch());
  if (!parked.ok()) return fail(parked.status());
  absl::StatusOr<FuncInfo> mcall = FindProbedFunction(proc, "runtime.mcall");
  if (!mcall.ok()) return mcall.status();
  absl::StatusOr<std::vector<uint64_t>> resumed = FindReturnsFromCallsTo(
      *code, gopark.entry, proc.binary->goarch(), mcall->entry);
  if (!resumed.ok()) return fail(resumed.status());
  return GoparkProbes{*parked, *std::move(resumed)};
}

}  // namespace

absl::StatusOr<UprobeSet::Links> BlockTracker::AttachProbes(
    const GoProcess& proc) {
  absl::StatusOr<FuncInfo> gopark = FindProbedFunction(proc, "runtime.gopark");
  if (!gopark.ok()) return gopark.status();
  absl::StatusOr<FuncInfo> ready = FindProbedFunction(proc, "runtime.ready");
  if (!ready.ok()) return ready.status();
  absl::StatusOr<GoparkProbes> at = FindGoparkProbes(proc, *gopark);
  if (!at.ok()) return at.status();
  std::vector<std::pair<uint64_t, bpf_program*>> probes = {
      {at->parked, skel_->progs.block_gopark},
      {ready->entry, skel_->progs.block_ready}};
  for (uint64_t a : at->resumed) {
    probes.emplace_back(a, skel_->progs.block_resume);
  }
  UprobeSet::Links links;
  for (const auto& [addr, program] : probes) {
    absl::StatusOr<bpf_link*> link =
        AttachUprobe(program, proc, addr, bpf_program__name(program));
    if (!link.ok()) {
      DestroyLinks(links);
      return link.status();
    }
    links.push_back(*link);
  }
  return links;
}

absl::StatusOr<Subscription> BlockTracker::Subscribe(const GoProcess& proc,
                                                     BlockSink* sink) {
  const absl::StatusOr<RuntimeLayout>& layout = proc.binary->runtime_layout();
  if (!layout.ok()) return layout.status();
  if (!ProcessRunning(proc.pid)) {
    return absl::NotFoundError(absl::StrCat("pid ", proc.pid, " is gone"));
  }
  absl::MutexLock lock(&mu_);
  const GoBinary* key = proc.binary.get();
  if (absl::Status s = probes_.Acquire(proc.binary, proc.pid,
                                       [&] { return AttachProbes(proc); });
      !s.ok()) {
    return s;
  }
  auto pit = processes_.find(proc.pid);
  if (pit == processes_.end()) {
    if (const int err = maps_->AddTarget(proc.pid, *layout); err != 0) {
      probes_.Release(key, proc.pid);
      return absl::ResourceExhaustedError(absl::StrCat(
          "adding pid ", proc.pid, " to the block probes: ", strerror(err)));
    }
    std::optional<FuncInfo> gopark =
        proc.binary->FindFunctionByName("runtime.gopark");
    Process process{
        proc,
        proc.binary,
        WaitReasons::ForGoMinor(
            GoMinorVersion(proc.binary->build_info().go_version).value_or(0)),
        gopark ? gopark->entry + proc.load_bias : 0,
        {}};
    pit = processes_.emplace(proc.pid, std::move(process)).first;
  }
  std::vector<BlockSink*>& sinks = pit->second.sinks;
  if (std::find(sinks.begin(), sinks.end(), sink) != sinks.end()) {
    probes_.Release(key,
                    proc.pid);  // already subscribed: one reference per sink
    return Subscription();
  }
  sinks.push_back(sink);
  // The first pull after none attached the probes afresh: its waits are
  // seen continuously until the trap duty cycle says otherwise.
  if (sinks_.empty()) {
    trap_.EnsureContinuous(MonotonicNowNs());
    ring_->SetActive(true);
  }
  auto [sit, inserted] = sinks_.try_emplace(sink);
  if (inserted) {
    const BlockCounters c = counters();
    sit->second.lost_at_start = c.parked_full + c.ringbuf_full;
    sit->second.windows_at_start = trap_.windows();
    sit->second.long_dropped_at_start = trap_.long_waits_dropped();
  }
  sit->second.pids.push_back(proc.pid);
  const int pid = proc.pid;
  return Subscription([this, sink, pid] { Unsubscribe(sink, pid); });
}

BlockSinkStats BlockTracker::EndStats(BlockSink* sink) {
  Flush();  // what has completed so far belongs to this pull
  absl::MutexLock lock(&mu_);
  BlockSinkStats stats;
  auto sit = sinks_.find(sink);
  if (sit == sinks_.end()) return stats;
  const SinkState& state = sit->second;
  const BlockCounters c = counters();
  stats.lost = c.parked_full + c.ringbuf_full - state.lost_at_start;
  stats.trap_windows = trap_.windows() - state.windows_at_start;
  stats.long_waits_dropped =
      trap_.long_waits_dropped() - state.long_dropped_at_start;
  return stats;
}

void BlockTracker::Unsubscribe(BlockSink* sink, int pid) {
  absl::MutexLock lock(&mu_);
  auto sit = sinks_.find(sink);
  if (sit == sinks_.end()) return;
  std::vector<int>& pids = sit->second.pids;
  auto p = std::find(pids.begin(), pids.end(), pid);
  if (p == pids.end()) return;
  pids.erase(p);
  if (pids.empty()) sinks_.erase(sit);
  auto pit = processes_.find(pid);
  if (pit != processes_.end()) {
    std::vector<BlockSink*>& sinks = pit->second.sinks;
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
    const GoBinary* key = pit->second.binary.get();
    if (sinks.empty()) {
      processes_.erase(pit);
      maps_->RemoveTarget(pid);
    }
    probes_.Release(key, pid);
  }
  if (sinks_.empty()) {
    maps_->ClearStacks();
    stacks_.clear();
    ring_->SetActive(false);
  }
}

bool BlockTracker::AnySinkNeedsEveryWaitLocked() const {
  for (const auto& [sink, state] : sinks_) {
    if (sink->NeedsEveryWait()) return true;
  }
  return false;
}

void BlockTracker::ReattachLocked() {
  probes_.AttachDetached([this](const GoBinary* binary,
                                int pid) -> absl::StatusOr<UprobeSet::Links> {
    auto it = processes_.find(pid);
    if (it == processes_.end() || it->second.binary.get() != binary ||
        !ProcessRunning(pid)) {
      return absl::NotFoundError("the process is gone");
    }
    absl::StatusOr<UprobeSet::Links> links = AttachProbes(it->second.proc);
    if (!links.ok()) {
      GSPY_LOG(WARNING) << "block probes: attaching again to pid " << pid
                        << ": " << links.status().message();
    }
    return links;
  });
}

// One window of options_.trap.window attached, then, past the budget, the
// rest of the period detached. Detaching costs the kernel ~0.1 s per probe,
// done here, outside the lock, while the waits keep being delivered (a
// window stands for the off time around it, however long detaching took).
void BlockTracker::TrapCycleLoop() {
  const absl::Duration window = options_.trap.window;
  auto sleep_until = [this](absl::Time deadline) {
    while (!stop_ && absl::Now() < deadline) {
      absl::SleepFor(std::min(absl::Milliseconds(50), deadline - absl::Now()));
    }
    return !stop_;
  };
  while (!stop_) {
    AwaitSinks();
    const uint64_t parks0 = Parks();
    const absl::Time t0 = absl::Now();
    if (!sleep_until(t0 + window)) return;
    const double rate =
        (Parks() - parks0) / absl::ToDoubleSeconds(absl::Now() - t0);
    UprobeSet::Links links;
    absl::Duration period;
    {
      absl::MutexLock lock(&mu_);
      const double fraction = trap_.FractionFor(rate);
      if (fraction >= 1 || probes_.empty() || AnySinkNeedsEveryWaitLocked()) {
        if (trap_.InWindow()) trap_.BeginContinuous(MonotonicNowNs());
        continue;
      }
      trap_.EndContinuous(MonotonicNowNs());
      period = window / fraction;
      links = probes_.TakeAllLinks();
      detached_ = true;
    }
    const absl::Time closed = absl::Now();
    DestroyLinks(links);
    if (!sleep_until(closed + period - window)) return;
    absl::MutexLock lock(&mu_);
    ReattachLocked();
    maps_->ClearParked();
    trap_.BeginWindow(MonotonicNowNs());
    detached_ = false;
  }
}

uint64_t BlockTracker::Parks() const {
  return PerCpuCounters(skel_->maps.block_counters)
      .Sum(GSPY_BLOCK_COUNTER(parks));
}

BlockCounters BlockTracker::counters() const {
  return PerCpuCounters(skel_->maps.block_counters).Read<BlockCounters>();
}

std::vector<BlockWaitTotals> BlockTracker::WaitTotals() {
  absl::MutexLock lock(&mu_);
  std::vector<BlockWaitTotals> out;
  const absl::Time now = absl::Now();
  for (auto it = totals_.begin(); it != totals_.end();) {
    ProcessTotals& pt = it->second;
    if (!processes_.contains(it->first) && !ProcessRunning(it->first)) {
      if (pt.gone_since == absl::InfiniteFuture()) pt.gone_since = now;
      if (now - pt.gone_since > kExitedTotalsKept) {
        totals_.erase(it++);
        continue;
      }
    }
    for (const auto& [reason, t] : pt.by_reason) {
      out.push_back({it->first, reason, t.waits, t.seconds});
    }
    ++it;
  }
  return out;
}

BlockTrapStats BlockTracker::trap_stats() const {
  absl::MutexLock lock(&mu_);
  return {trap_.windows(), trap_.long_waits_dropped(), detached_};
}

bool BlockTracker::Attached(int pid) const {
  absl::MutexLock lock(&mu_);
  return processes_.contains(pid);
}

size_t BlockTracker::attached_processes() const {
  absl::MutexLock lock(&mu_);
  return probes_.size();
}

}  // namespace gspy
