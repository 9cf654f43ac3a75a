// ProfilerService's wall-clock pull: a CPU profile and the block and
// scheduling-latency halves of the block probes over the same window, turned
// into one profile of where every goroutine spent its time, by state.
#include <time.h>

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/aggregator/block_profile.h"
#include "daemon/aggregator/cpu_profile.h"
#include "daemon/pprof/profile_merge.h"
#include "daemon/service/block_profile_sink.h"
#include "daemon/service/profiler_service.h"
#include "daemon/service/pull_window.h"

namespace gspy {
namespace {

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // bpf_ktime_get_ns's clock
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Gives a (count, nanoseconds) profile the wall profile's sample types and
// labels each sample with `state`.
absl::StatusOr<perftools::profiles::Profile> AsWallPart(
    const std::string& gzipped, const std::string& state) {
  absl::StatusOr<perftools::profiles::Profile> p = DecodeProfile(gzipped);
  if (!p.ok()) return p.status();
  auto add = [&](const std::string& s) {
    p->add_string_table(s);
    return static_cast<int64_t>(p->string_table_size() - 1);
  };
  const int64_t samples = add("samples"), count = add("count"),
                wall = add("wall"), ns = add("nanoseconds"),
                state_key = add("state"), state_value = add(state);
  if (p->sample_type_size() != 2) {
    return absl::InternalError("a wall part must have two sample types");
  }
  p->mutable_sample_type(0)->set_type(samples);
  p->mutable_sample_type(0)->set_unit(count);
  p->mutable_sample_type(1)->set_type(wall);
  p->mutable_sample_type(1)->set_unit(ns);
  p->mutable_period_type()->set_type(wall);
  p->mutable_period_type()->set_unit(ns);
  p->set_default_sample_type(wall);
  for (auto& s : *p->mutable_sample()) {
    auto* l = s.add_label();
    l->set_key(state_key);
    l->set_str(state_value);
  }
  return p;
}

}  // namespace

grpc::Status ProfilerService::PullWall(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest& request,
    gspy::v1::GetProfileResponse* response) {
  if (request.kernel_stacks()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "kernel stacks are only for CPU profiles");
  }
  absl::StatusOr<CheckedTargets> targets = CheckTargetsRequest(
      *processes_, request.selector(), request.duration_seconds(),
      request.duration_nanos(), options_.max_duration, "profile");
  if (!targets.ok()) return ToGrpcStatus(targets.status());
  absl::StatusOr<std::shared_ptr<const SampleFilter>> filter =
      ParseFilter(request.filter());
  if (!filter.ok()) return ToGrpcStatus(filter.status());

  CpuProfileOptions cpu_options;
  cpu_options.label_keys.assign(request.label_keys().begin(),
                                request.label_keys().end());
  cpu_options.goroutine_ids = request.goroutine_ids();
  cpu_options.period_ns = options_.period_ns;
  cpu_options.max_stacks = options_.max_stacks_per_profile;
  cpu_options.filter = *filter;
  cpu_options.filter_text = request.filter();
  auto cpu = std::make_shared<CpuProfile>(cpu_options);

  BlockProfileOptions block_options;
  block_options.label_keys = cpu_options.label_keys;
  block_options.goroutine_ids = cpu_options.goroutine_ids;
  block_options.max_stacks = cpu_options.max_stacks;
  block_options.filter = *filter;
  block_options.filter_text = request.filter();
  block_options.window_start_ns = MonotonicNs();
  BlockProfile waiting(block_options);
  block_options.metric = BlockMetric::kSchedDelay;
  BlockProfile runnable(block_options);
  BlockProfileSink sink({&waiting, &runnable});

  auto attach = [&](const GoProcess& proc) -> absl::Status {
    cpu->AddProcess(proc);
    waiting.AddProcess(proc);
    runnable.AddProcess(proc);
    if (absl::Status s = sessions_->Attach(cpu, proc, false); !s.ok()) {
      return s;
    }
    return block_tracker_->Attach(&sink, proc);
  };
  auto detach = [&] {
    sessions_->Detach(cpu.get());
    return block_tracker_->Detach(&sink);
  };
  std::vector<int> pids;
  for (const GoProcess& proc : targets->processes) {
    pids.push_back(proc.pid);
    if (absl::Status s = attach(proc); !s.ok()) {
      detach();
      return ToGrpcStatus(s);
    }
  }
  std::vector<std::string> warnings;
  const PullWindowResult window = RunPullWindow(
      context,
      {.processes = processes_,
       .selector = &request.selector(),
       .duration = targets->duration,
       .rescan_interval = options_.rescan_interval,
       .pids = std::move(pids),
       .has_process = [&](int pid) { return cpu->HasProcess(pid); },
       .attach = attach},
      &warnings);
  const BlockSinkStats stats = detach();
  if (window.cancelled) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled");
  }
  if (stats.lost > 0) {
    warnings.push_back(absl::StrCat(
        "up to ", stats.lost,
        " waits were lost because the parked map or the ring buffer was full"));
  }
  const absl::Duration length = window.end - window.start;
  std::vector<perftools::profiles::Profile> parts;
  for (auto [gz, state] :
       {std::pair{cpu->BuildPprof(window.start, length, nullptr, &warnings),
                  "running"},
        std::pair{waiting.BuildPprof(window.start, length, &warnings),
                  "waiting"},
        std::pair{runnable.BuildPprof(window.start, length, nullptr),
                  "runnable"}}) {
    absl::StatusOr<perftools::profiles::Profile> part = AsWallPart(gz, state);
    if (!part.ok()) return ToGrpcStatus(part.status());
    parts.push_back(*std::move(part));
  }
  absl::StatusOr<perftools::profiles::Profile> wall = MergeProfiles(parts);
  if (!wall.ok()) return ToGrpcStatus(wall.status());
  response->set_pprof(GzipCompress(wall->SerializeAsString()));
  response->set_samples(cpu->sample_count() + waiting.wait_count());
  response->set_lost_samples(cpu->dropped_count() + waiting.dropped_count() +
                             static_cast<int64_t>(stats.lost));
  response->set_sampling_ratio(waiting.sampling_ratio());
  for (std::string& w : warnings) response->add_warnings(std::move(w));
  return grpc::Status::OK;
}

}  // namespace gspy
