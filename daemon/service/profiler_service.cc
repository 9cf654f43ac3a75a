#include "daemon/service/profiler_service.h"

#include "absl/strings/str_cat.h"

namespace gspy {

ProfilerService::ProfilerService(ProfilerServiceOptions options,
                                 ProcessTable* processes,
                                 SessionRegistry* sessions)
    : options_(options), processes_(processes), sessions_(sessions) {}

grpc::Status ProfilerService::ListTargets(
    grpc::ServerContext*, const gspy::v1::ListTargetsRequest*,
    gspy::v1::ListTargetsResponse* response) {
  std::vector<ProcessProblem> problems;
  for (const GoProcess& proc : processes_->ListGoProcesses(&problems)) {
    gspy::v1::Target* t = response->add_targets();
    t->set_pid(proc.pid);
    t->set_exe(proc.exe_path);
    t->set_comm(proc.comm);
    t->set_go_version(proc.binary->build_info().go_version);
    t->set_module_path(proc.binary->build_info().module_path);
  }
  for (const ProcessProblem& p : problems) {
    gspy::v1::Target* t = response->add_targets();
    t->set_pid(p.pid);
    t->set_exe(p.exe_path);
    t->set_unsupported_reason(std::string(p.status.message()));
  }
  return grpc::Status::OK;
}

const KernelSymbols& ProfilerService::kernel_symbols() {
  absl::call_once(kernel_once_, [this] {
    kernel_ = std::make_unique<KernelSymbols>(KernelSymbols::Load());
  });
  return *kernel_;
}

grpc::Status ProfilerService::GetProfile(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest* request,
    gspy::v1::GetProfileResponse* response) {
  if (request->type() != gspy::v1::PROFILE_TYPE_CPU) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "profile type must be PROFILE_TYPE_CPU");
  }
  absl::StatusOr<CheckedTargets> targets = CheckTargetsRequest(
      *processes_, request->selector(), request->duration_seconds(),
      request->duration_nanos(), options_.max_duration, "profile");
  if (!targets.ok()) return ToGrpcStatus(targets.status());
  const absl::Duration duration = targets->duration;

  CpuProfileOptions options;
  options.label_keys.assign(request->label_keys().begin(),
                            request->label_keys().end());
  options.goroutine_ids = request->goroutine_ids();
  options.kernel_stacks = request->kernel_stacks();
  options.period_ns = options_.period_ns;
  options.max_stacks = options_.max_stacks_per_profile;
  auto profile = std::make_shared<CpuProfile>(options);

  auto attach = [&](GoProcess proc) -> absl::Status {
    GoProcess copy = proc;
    profile->AddProcess(std::move(proc));
    return sessions_->Attach(profile, copy, options.kernel_stacks);
  };
  std::vector<int> pids;
  for (GoProcess& proc : targets->processes) {
    pids.push_back(proc.pid);
    if (absl::Status s = attach(std::move(proc)); !s.ok()) {
      sessions_->Detach(profile.get());
      return ToGrpcStatus(s);
    }
  }

  const SamplerCounters counters_before = sessions_->counters();
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + duration;
  std::vector<std::string> warnings;
  const bool pids_only = request->selector().exe_paths().empty() &&
                         !request->selector().pids().empty();
  while (absl::Now() < deadline && !context->IsCancelled()) {
    absl::SleepFor(std::min(options_.rescan_interval, deadline - absl::Now()));
    if (pids_only) {
      bool any_alive = false;
      for (int pid : pids) any_alive |= ProcessRunning(pid);
      if (!any_alive) {
        warnings.push_back(
            absl::StrCat("every selected process exited after ",
                         absl::FormatDuration(absl::Now() - start),
                         "; the profile holds the samples taken until then"));
        break;
      }
    } else {
      for (GoProcess& proc : NewSelectorMatches(
               *processes_, request->selector(),
               [&](int pid) { return profile->HasProcess(pid); })) {
        pids.push_back(proc.pid);
        if (absl::Status s = attach(std::move(proc)); !s.ok()) {
          warnings.push_back(std::string(s.message()));
        }
      }
    }
  }
  const absl::Time end = absl::Now();
  sessions_->Detach(profile.get());
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled");
  }

  // The ring buffer is shared by all pulls: a loss during this pull may be
  // another pull's sample, so it is reported as an upper bound.
  const SamplerCounters counters_after = sessions_->counters();
  const uint64_t ring_lost =
      counters_after.ringbuf_full - counters_before.ringbuf_full;
  if (ring_lost > 0) {
    warnings.push_back(
        absl::StrCat("up to ", ring_lost,
                     " samples were lost because the ring buffer was full"));
  }
  const KernelSymbols* kernel =
      options.kernel_stacks ? &kernel_symbols() : nullptr;
  response->set_pprof(
      profile->BuildPprof(start, end - start, kernel, &warnings));
  response->set_samples(profile->sample_count());
  response->set_lost_samples(profile->dropped_count() +
                             static_cast<int64_t>(ring_lost));
  for (std::string& w : warnings) response->add_warnings(std::move(w));
  return grpc::Status::OK;
}

}  // namespace gspy
