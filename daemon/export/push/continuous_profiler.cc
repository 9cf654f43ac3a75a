#include "daemon/export/push/continuous_profiler.h"

#include <algorithm>
#include <utility>

#include "base/log.h"

namespace gspy {

ContinuousProfiler::ContinuousProfiler(ContinuousOptions options,
                                       const ProcessTable* processes,
                                       SessionRegistry* sessions,
                                       const ProcessLabeler* labeler,
                                       std::vector<PushSender*> senders)
    : options_(std::move(options)),
      processes_(processes),
      sessions_(sessions),
      labeler_(labeler),
      senders_(std::move(senders)) {}

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

void ContinuousProfiler::Rescan() {
  std::vector<GoProcess> found = options_.selector.NewMatches(
      *processes_, [this](int pid) { return targets_.contains(pid); });
  for (GoProcess& proc : found) {
    const int pid = proc.pid;
    std::shared_ptr<CpuProfile> profile = NewProfile(proc);
    const absl::Time since = absl::Now();
    absl::StatusOr<Subscription> s = sessions_->Subscribe(proc, profile, false);
    if (!s.ok()) {
      // e.g. a layout gspy cannot read; not retried until it restarts.
      GSPY_LOG(WARNING) << "continuous: cannot profile pid " << pid << " ("
                        << proc.exe_path << "): " << s.status().message();
      absl::MutexLock lock(&mu_);
      ++stats_.attach_errors;
      // Remember it, without a profile, so it is not tried every rescan.
      targets_.emplace(pid, Target{std::move(proc), nullptr, since, {}});
      continue;
    }
    GSPY_LOG(DEBUG) << "continuous: profiling pid " << pid << " ("
                    << proc.exe_path << ")";
    targets_.emplace(
        pid, Target{std::move(proc), std::move(profile), since, *std::move(s)});
  }
  absl::MutexLock lock(&mu_);
  stats_.processes = ProfiledCount();
}

size_t ContinuousProfiler::ProfiledCount() const {
  return static_cast<size_t>(
      std::count_if(targets_.begin(), targets_.end(),
                    [](const auto& t) { return t.second.profile != nullptr; }));
}

void ContinuousProfiler::CutAll(bool final) {
  const absl::Time now = absl::Now();
  for (auto it = targets_.begin(); it != targets_.end();) {
    Target& t = it->second;
    const bool alive = ProcessRunning(it->first);
    if (t.profile != nullptr) {
      Cut(t, now, final || !alive ? nullptr : NewProfile(t.process));
    }
    if (!alive || final) {
      targets_.erase(it++);
    } else {
      ++it;
    }
  }
  absl::MutexLock lock(&mu_);
  stats_.processes = ProfiledCount();
}

void ContinuousProfiler::Cut(Target& target, absl::Time now,
                             std::shared_ptr<CpuProfile> replacement) {
  std::shared_ptr<CpuProfile> old = std::move(target.profile);
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
  const absl::Time since = target.since;
  target.since = now;
  if (old->sample_count() == 0) {
    absl::MutexLock lock(&mu_);
    ++stats_.empty_intervals;
    return;
  }
  auto profile = std::make_shared<PushProfile>();
  std::vector<std::string> warnings;
  absl::StatusOr<std::string> pprof = options_.redactor->RedactPprof(
      old->BuildPprof(since, now - since, nullptr, &warnings));
  if (!pprof.ok()) {
    // Never the unredacted profile instead.
    GSPY_LOG(ERROR) << "push: pid " << target.process.pid
                    << ": profile not sent: " << pprof.status().message();
    return;
  }
  profile->pprof = *std::move(pprof);
  profile->start = since;
  profile->end = now;
  profile->id = NewProfileId();
  const ProcessMetadata metadata =
      labeler_ != nullptr ? labeler_->MetadataFor(target.process.pid)
                          : target.process.metadata;
  profile->labels = PushLabels(target.process, metadata, options_.labels);
  options_.redactor->RedactLabelPairs(&profile->labels);
  for (PushSender* sender : senders_) sender->Enqueue(profile);
  absl::MutexLock lock(&mu_);
  ++stats_.profiles_cut;
}

}  // namespace gspy
