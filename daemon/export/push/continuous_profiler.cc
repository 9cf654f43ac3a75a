#include "daemon/export/push/continuous_profiler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/log.h"
#include "daemon/aggregation/wall_parts.h"
#include "golang/binary/go_version.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {

// The sweeps of one process since the last cut, in fresh BlockProfiles
// (waiting, and runnable for wall) that Take swaps out. Called from the
// SampledTracker's thread.
class ContinuousProfiler::SampledCut final : public SampledSink {
 public:
  SampledCut(const GoProcess& process, bool runnable, size_t max_stacks,
             SampledWaitTotals* totals)
      : process_(process),
        runnable_(runnable),
        max_stacks_(max_stacks),
        totals_(totals) {
    absl::MutexLock lock(&mu_);
    Renew();
  }

  void AddSweep(int pid, const GoroutineSweep& sweep,
                const SweepSpan& span) override {
    if (totals_ != nullptr) totals_->AddSweep(pid, sweep, span);
    absl::MutexLock lock(&mu_);
    // A wait under way at the cut is new to the next profile: it counts
    // once in each interval it is seen in.
    SweepSpan s = span;
    s.first = span.first || fresh_;
    fresh_ = false;
    waiting_->AddSweep(pid, sweep, s);
    if (runnable_profile_ != nullptr) {
      runnable_profile_->AddSweep(pid, sweep, s);
    }
    ++sweeps_;
    covered_ns_ += std::max<int64_t>(0, span.to_ns - span.from_ns);
  }

  struct Taken {
    std::unique_ptr<BlockProfile> waiting, runnable;
    int64_t sweeps = 0, covered_ns = 0;
  };
  Taken Take() {
    absl::MutexLock lock(&mu_);
    Taken out{std::move(waiting_), std::move(runnable_profile_), sweeps_,
              covered_ns_};
    Renew();
    return out;
  }

 private:
  void Renew() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    BlockProfileOptions o;
    o.max_stacks = max_stacks_;
    waiting_ = std::make_unique<BlockProfile>(o);
    waiting_->AddProcess(process_);
    if (runnable_) {
      o.metric = BlockMetric::kSchedDelay;
      runnable_profile_ = std::make_unique<BlockProfile>(o);
      runnable_profile_->AddProcess(process_);
    }
    sweeps_ = covered_ns_ = 0;
    fresh_ = true;
  }

  const GoProcess process_;
  const bool runnable_;
  const size_t max_stacks_;
  SampledWaitTotals* const totals_;
  absl::Mutex mu_;
  std::unique_ptr<BlockProfile> waiting_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<BlockProfile> runnable_profile_ ABSL_GUARDED_BY(mu_);
  int64_t sweeps_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t covered_ns_ ABSL_GUARDED_BY(mu_) = 0;
  bool fresh_ ABSL_GUARDED_BY(mu_) = true;
};

namespace {

// The mode comment of pushed block and wall profiles: what made them.
std::string SampledComment(int64_t sweeps, int64_t covered_ns) {
  const double mean_ms =
      sweeps > 0 ? static_cast<double>(covered_ns) / sweeps / 1e6 : 0;
  return absl::StrFormat(
      "mode: sampled: goroutine states read from outside (no probes), %d "
      "sweeps, one every %.2f ms on average. delay: each sweep charges every "
      "goroutine seen in the state with the time since the previous sweep. "
      "count: distinct waits observed in the interval (one seen in several "
      "intervals counts in each), not all waits",
      sweeps, mean_ms);
}

void SetName(LabelList* labels, const std::string& name) {
  for (auto& [k, v] : *labels) {
    if (k == "__name__") v = name;
  }
}

}  // namespace

ContinuousProfiler::ContinuousProfiler(ContinuousOptions options,
                                       const ProcessTable* processes,
                                       SessionRegistry* sessions,
                                       const ProcessLabeler* labeler,
                                       std::vector<PushSender*> senders)
    : options_(std::move(options)),
      processes_(processes),
      sessions_(sessions),
      labeler_(labeler),
      senders_(std::move(senders)) {
  for (PushSender* s : senders_) any_parca_ |= s->backend() == "parca";
  for (PushSender* s : senders_) any_pyroscope_ |= s->backend() != "parca";
}

ContinuousProfiler::~ContinuousProfiler() { Stop(); }

void ContinuousProfiler::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ContinuousProfiler::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
}

ContinuousStats ContinuousProfiler::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

std::shared_ptr<CpuProfile> ContinuousProfiler::NewProfile(
    const GoProcess& process) const {
  CpuProfileOptions o;
  o.period_ns = options_.period_ns;
  o.max_stacks = options_.max_stacks;
  auto profile = std::make_shared<CpuProfile>(o);
  profile->AddProcess(process);
  return profile;
}

void ContinuousProfiler::Run() {
  absl::Time next_cut = absl::Now() + options_.interval;
  Rescan();
  while (true) {
    const absl::Time now = absl::Now();
    const absl::Duration until_cut = next_cut - now;
    if (stop_.WaitForNotificationWithTimeout(std::max(
            absl::ZeroDuration(), std::min(options_.rescan, until_cut)))) {
      break;
    }
    if (absl::Now() >= next_cut) {
      CutAll(false);
      next_cut += options_.interval;
      // After a long stall (suspend), do not cut back to back.
      if (next_cut < absl::Now()) next_cut = absl::Now() + options_.interval;
    }
    Rescan();
  }
  CutAll(true);
}

bool ContinuousProfiler::Attach(Target& t) {
  const GoProcess& proc = t.process;
  const PushTypes& types = options_.types;
  if (types.cpu || types.wall) {
    std::shared_ptr<CpuProfile> profile = NewProfile(proc);
    absl::StatusOr<Subscription> s = sessions_->Subscribe(proc, profile, false);
    if (s.ok()) {
      t.profile = std::move(profile);
      t.subscription = *std::move(s);
    } else {
      // e.g. a layout gspy cannot read; not retried until it restarts.
      GSPY_LOG(WARNING) << "continuous: cannot profile the CPU of pid "
                        << proc.pid << " (" << proc.exe_path
                        << "): " << s.status().message();
      absl::MutexLock lock(&mu_);
      ++stats_.attach_errors;
    }
  }
  if (types.sampled() && options_.sampled != nullptr) {
    auto waits = std::make_unique<SampledCut>(
        proc, types.wall, options_.max_stacks, options_.wait_totals);
    if (options_.wait_totals != nullptr) {
      options_.wait_totals->AddProcess(
          proc.pid,
          GoMinorVersion(proc.binary->build_info().go_version).value_or(0));
    }
    absl::StatusOr<Subscription> s =
        options_.sampled->Subscribe(proc, waits.get());
    if (s.ok()) {
      t.waits = std::move(waits);
      t.sampled_subscription = *std::move(s);
    } else {
      GSPY_LOG(INFO) << "continuous: no block or wall profile of pid "
                     << proc.pid << " (" << proc.exe_path
                     << "): " << s.status().message();
      if (options_.wait_totals != nullptr) {
        options_.wait_totals->RemoveProcess(proc.pid);
      }
      absl::MutexLock lock(&mu_);
      ++stats_.sampled_unavailable;
    }
  }
  if (types.heap && proc.binary != nullptr) {
    auto heap = std::make_unique<HeapWatch>();
    heap->memory = std::make_unique<ProcessMemory>(proc.pid);
    absl::StatusOr<std::unique_ptr<HeapReader>> reader =
        HeapReader::Open(*proc.binary, *heap->memory, proc.load_bias);
    absl::StatusOr<HeapSnapshot> first =
        reader.ok() ? (*reader)->Read(*heap->memory)
                    : absl::StatusOr<HeapSnapshot>(reader.status());
    if (first.ok()) {
      heap->reader = *std::move(reader);
      heap->last = *std::move(first);
      t.heap = std::move(heap);
    } else {
      // Quietly: most binaries that do not import runtime/pprof have no
      // heap profile, which is no fault of theirs. Counted.
      GSPY_LOG(DEBUG) << "continuous: no heap profile of pid " << proc.pid
                      << ": " << first.status().message();
      absl::MutexLock lock(&mu_);
      ++stats_.heap_unavailable;
    }
  }
  if (types.goroutine && proc.binary != nullptr) {
    t.goroutines =
        std::make_unique<GoroutineCut>(proc, options_.max_goroutine_bytes);
  }
  return t.attached();
}

void ContinuousProfiler::Detach(Target& t) {
  if (t.waits != nullptr) {
    t.sampled_subscription.Cancel();
    // Forgets the sink's stats (no sweep comes after the Cancel).
    options_.sampled->EndStats(t.waits.get());
    if (options_.wait_totals != nullptr) {
      options_.wait_totals->RemoveProcess(t.process.pid);
    }
  }
}

void ContinuousProfiler::Rescan() {
  std::vector<GoProcess> found = options_.selector.NewMatches(
      *processes_, [this](int pid) { return targets_.contains(pid); });
  for (GoProcess& proc : found) {
    const int pid = proc.pid;
    Target& t = targets_.emplace(pid, Target{std::move(proc)}).first->second;
    t.since = absl::Now();
    // A target that could not attach stays, without sources, so it is not
    // tried every rescan.
    if (Attach(t)) {
      GSPY_LOG(DEBUG) << "continuous: profiling pid " << pid << " ("
                      << t.process.exe_path << ")";
    }
  }
  absl::MutexLock lock(&mu_);
  stats_.processes = ProfiledCount();
}

size_t ContinuousProfiler::ProfiledCount() const {
  return static_cast<size_t>(
      std::count_if(targets_.begin(), targets_.end(),
                    [](const auto& t) { return t.second.attached(); }));
}

void ContinuousProfiler::CutAll(bool final) {
  const absl::Time now = absl::Now();
  for (auto it = targets_.begin(); it != targets_.end();) {
    Target& t = it->second;
    const bool alive = ProcessRunning(it->first);
    const bool last = final || !alive;
    if (t.attached()) Cut(t, now, last);
    if (last) {
      Detach(t);
      targets_.erase(it++);
    } else {
      ++it;
    }
  }
  absl::MutexLock lock(&mu_);
  stats_.processes = ProfiledCount();
}

void ContinuousProfiler::Count(const std::string& type) {
  absl::MutexLock lock(&mu_);
  ++stats_.profiles_cut[type];
}

void ContinuousProfiler::Queue(const Target& target, const LabelList& labels,
                               const std::string& type, const std::string& name,
                               std::string pprof, absl::Time since,
                               absl::Time now, const std::string& backend) {
  absl::StatusOr<std::string> redacted =
      options_.redactor->RedactPprof(std::move(pprof));
  if (!redacted.ok()) {
    // Never the unredacted profile instead.
    GSPY_LOG(ERROR) << "push: pid " << target.process.pid << ": " << type
                    << " profile not sent: " << redacted.status().message();
    return;
  }
  auto profile = std::make_shared<PushProfile>();
  profile->pprof = *std::move(redacted);
  profile->start = since;
  profile->end = now;
  profile->id = NewProfileId();
  profile->labels = labels;
  SetName(&profile->labels, name);
  options_.redactor->RedactLabelPairs(&profile->labels);
  for (PushSender* sender : senders_) {
    if (backend.empty() ||
        (backend == "parca") == (sender->backend() == "parca")) {
      sender->Enqueue(profile);
    }
  }
}

void ContinuousProfiler::QueueProfile(
    const Target& target, const LabelList& labels, const std::string& type,
    const std::string& name, const perftools::profiles::Profile& profile,
    absl::Time since, absl::Time now, const std::string& backend) {
  // Redacted in Queue, as every other profile.
  Queue(target, labels, type, name, GzipCompress(profile.SerializeAsString()),
        since, now, backend);
}

void ContinuousProfiler::Cut(Target& target, absl::Time now, bool last) {
  const absl::Time since = target.since;
  target.since = now;
  const ProcessMetadata metadata =
      labeler_ != nullptr ? labeler_->MetadataFor(target.process.pid)
                          : target.process.metadata;
  const LabelList labels =
      PushLabels(target.process, metadata, options_.labels);
  const PushTypes& types = options_.types;

  // CPU: the profile of the interval, a new one in its place.
  std::string cpu_pprof;
  int64_t cpu_samples = 0;
  if (target.profile != nullptr) {
    std::shared_ptr<CpuProfile> old = std::move(target.profile);
    std::shared_ptr<CpuProfile> replacement =
        last ? nullptr : NewProfile(target.process);
    if (replacement != nullptr) {
      sessions_->Replace(old.get(), replacement);
    } else {
      target.subscription.Cancel();
    }
    target.profile = std::move(replacement);
    // A sample the registry was routing as it switched holds a reference
    // until it is added: wait for it, so that it is in this profile.
    for (int i = 0; i < 1000 && old.use_count() > 1; ++i) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    cpu_samples = old->sample_count();
    std::vector<std::string> warnings;
    if (cpu_samples > 0 || types.wall) {
      cpu_pprof = old->BuildPprof(since, now - since, nullptr, &warnings);
    }
    if (types.cpu) {
      if (cpu_samples == 0) {
        absl::MutexLock lock(&mu_);
        ++stats_.empty_intervals;
      } else {
        Queue(target, labels, "cpu", kCpuProfileName, cpu_pprof, since, now);
        Count("cpu");
      }
    }
  }

  // Block and wall: the sweeps since the last cut.
  if (target.waits != nullptr) {
    if (last) options_.sampled->EndStats(target.waits.get());  // to the end
    SampledCut::Taken w = target.waits->Take();
    const std::string mode = SampledComment(w.sweeps, w.covered_ns);
    w.waiting->SetMode(mode);
    if (types.block && w.waiting->wait_count() > 0) {
      // Go's block profile: contentions/count and delay/nanoseconds over
      // contentions/count, as both backends name block profiles.
      Queue(target, labels, "block", kBlockProfileName,
            w.waiting->BuildPprof(since, now - since, nullptr), since, now);
      Count("block");
    }
    if (types.wall) {
      if (!cpu_pprof.empty() &&
          (cpu_samples > 0 || w.waiting->wait_count() > 0 ||
           w.runnable->wait_count() > 0)) {
        w.runnable->SetMode(mode);
        absl::StatusOr<perftools::profiles::Profile> wall = MergeWallParts(
            cpu_pprof, w.waiting->BuildPprof(since, now - since, nullptr),
            w.runnable->BuildPprof(since, now - since, nullptr));
        if (!wall.ok()) {
          GSPY_LOG(ERROR) << "push: pid " << target.process.pid
                          << ": wall profile not made: "
                          << wall.status().message();
        } else {
          if (any_parca_) {
            perftools::profiles::Profile parca = *wall;
            RenameWallForParca(&parca);
            QueueProfile(target, labels, "wall", kWallProfileName, parca, since,
                         now, "parca");
          }
          if (any_pyroscope_) {
            QueueProfile(target, labels, "wall", kWallProfileName, *wall, since,
                         now, "pyroscope");
          }
          Count("wall");
        }
      }
    }
  }

  if (target.heap != nullptr) CutHeap(target, labels, now);
  if (target.goroutines != nullptr) CutGoroutines(target, labels, now);
}

void ContinuousProfiler::CutGoroutines(Target& target, const LabelList& labels,
                                       absl::Time now) {
  absl::StatusOr<std::string> pprof = target.goroutines->Take(now);
  if (!pprof.ok()) {
    if (absl::IsNotFound(pprof.status())) {
      target.goroutines.reset();  // gone
      return;
    }
    GSPY_LOG(DEBUG) << "continuous: goroutines of pid " << target.process.pid
                    << " not read: " << pprof.status().message();
    absl::MutexLock lock(&mu_);
    ++stats_.goroutine_errors;
    return;
  }
  // A moment, not an interval: no duration, so Parca does not take it for
  // a delta profile.
  if (any_parca_) {
    Queue(target, labels, "goroutine", kParcaGoroutineProfileName, *pprof, now,
          now, "parca");
  }
  if (any_pyroscope_) {
    Queue(target, labels, "goroutine", kPyroscopeGoroutineProfileName,
          *std::move(pprof), now, now, "pyroscope");
  }
  Count("goroutine");
}

void ContinuousProfiler::CutHeap(Target& target, const LabelList& labels,
                                 absl::Time now) {
  HeapWatch& h = *target.heap;
  absl::StatusOr<HeapSnapshot> snap = h.reader->Read(*h.memory);
  if (!snap.ok()) {
    // Gone (its last interval is lost: the buckets went with it), or a
    // list that could not be read this time (cyclic, torn): next interval.
    GSPY_LOG(DEBUG) << "continuous: heap of pid " << target.process.pid
                    << " not read: " << snap.status().message();
    if (absl::IsNotFound(snap.status())) target.heap.reset();
    return;
  }
  const absl::Time since = h.last.time;
  const absl::Duration window = snap->time - since;
  HeapSnapshot delta = HeapDelta(h.last, *snap);
  h.last = *std::move(snap);
  if (delta.records.empty()) return;
  // alloc_* of the window (as Pyroscope's Go SDK sends them, a delta) and
  // inuse_* at its end.
  std::string pprof = HeapPprof(target.process, delta, window);
  if (any_parca_) {
    // Parca tells delta profiles by their duration: the window's
    // allocations as one, the moment's in-use memory (duration 0) as
    // another, so their types are memory:alloc_*:...:delta and
    // memory:inuse_*:... as Parca names Go's allocs and heap.
    absl::StatusOr<perftools::profiles::Profile> p = DecodeProfile(pprof);
    if (p.ok()) {
      perftools::profiles::Profile inuse = *p;
      KeepSampleTypes(&*p, {"alloc_objects", "alloc_space"});
      KeepSampleTypes(&inuse, {"inuse_objects", "inuse_space"});
      inuse.set_time_nanos(absl::ToUnixNanos(h.last.time));
      inuse.set_duration_nanos(0);
      if (p->sample_size() > 0) {
        QueueProfile(target, labels, "heap", kHeapProfileName, *p, since, now,
                     "parca");
      }
      QueueProfile(target, labels, "heap", kHeapProfileName, inuse, since, now,
                   "parca");
    }
  }
  if (any_pyroscope_) {
    Queue(target, labels, "heap", kHeapProfileName, std::move(pprof), since,
          now, "pyroscope");
  }
  Count("heap");
}

}  // namespace gspy
