#include "daemon/api/gc_service.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "daemon/api/request_checks.h"
#include "daemon/sources/kernel/subscription.h"

namespace gspy {

int64_t Quantile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  if (rank < 1) rank = 1;
  if (rank > sorted.size()) rank = sorted.size();
  return sorted[rank - 1];
}

grpc::Status GcService::WatchGcPauses(
    grpc::ServerContext* context, const gspy::v1::WatchGcPausesRequest* request,
    grpc::ServerWriter<gspy::v1::GcPauseEvent>* writer) {
  absl::StatusOr<Admission::PullSlot> slot =
      admission_->AdmitPull(ClientOf(*context));
  if (!slot.ok()) return ToGrpcStatus(slot.status());
  absl::StatusOr<CheckedTargets> targets =
      CheckTargetsRequest(*processes_, request->selector(), request->duration(),
                          options_.max_duration, "watch", *admission_);
  if (!targets.ok()) return ToGrpcStatus(targets.status());
  const absl::Duration duration = targets->duration;

  struct Watched {
    std::shared_ptr<GcWatch> watch;
    Subscription subscription;
    bool alive = true;
  };
  std::vector<Watched> watches;  // an error return ends the subscriptions
  for (const GoProcess& proc : targets->processes) {
    auto watch = std::make_shared<GcWatch>(proc.pid);
    absl::StatusOr<Subscription> s = tracker_->Subscribe(proc, watch);
    if (!s.ok()) return ToGrpcStatus(s.status());
    watches.push_back({std::move(watch), *std::move(s), true});
  }
  for (const GoProcess& proc : targets->processes) {
    gspy::v1::GcPauseEvent ev;
    ev.set_pid(proc.pid);
    ev.set_attached(true);
    ev.set_go_version(proc.binary->build_info().go_version);
    writer->Write(ev);
  }

  const uint64_t lost_before = tracker_->counters().ringbuf_full;
  std::vector<int64_t> durations;
  gspy::v1::GcPauseSummary summary;
  std::vector<std::string> warnings;
  bool client_gone = false;
  auto send = [&](const std::vector<GcPauseRecord>& records) {
    for (size_t i = 0; i < records.size(); ++i) {
      const GcPauseRecord& r = records[i];
      gspy::v1::GcPauseEvent ev;
      ev.set_pid(r.pid);
      ev.set_start_unix_nanos(r.start_unix_nanos);
      ev.set_duration_nanos(r.duration_nanos());
      ev.set_reason(r.reason);
      ev.set_gc_cycle(static_cast<int64_t>(r.pause.gc_cycle));
      ev.set_gc(r.pause.gc);
      ev.set_runtime_clock(r.pause.runtime_clock);
      ev.set_probe_duration_nanos(static_cast<int64_t>(
          r.pause.probe_end_ktime_ns - r.pause.probe_start_ktime_ns));
      durations.push_back(r.duration_nanos());
      summary.set_pauses(summary.pauses() + 1);
      summary.set_total_nanos(summary.total_nanos() + r.duration_nanos());
      if (r.pause.gc) {
        summary.set_gc_pauses(summary.gc_pauses() + 1);
        summary.set_gc_total_nanos(summary.gc_total_nanos() +
                                   r.duration_nanos());
      }
      // One write to the socket per drain, not per pause: buffer all but
      // the last (a GC-heavy process pauses hundreds of times a second).
      grpc::WriteOptions options;
      if (i + 1 < records.size()) options.set_buffer_hint();
      if (!client_gone && !writer->Write(ev, options)) client_gone = true;
    }
  };
  auto drain = [&](Watched& w) {
    std::vector<GcPauseRecord> records;
    w.watch->Take(&records);
    send(records);
  };
  auto finish = [&](Watched& w) {
    drain(w);
    summary.set_gc_cycles(summary.gc_cycles() +
                          static_cast<int64_t>(w.watch->cycles_completed()));
    if (w.watch->dropped() > 0) {
      warnings.push_back(absl::StrCat(w.watch->dropped(), " pauses of pid ",
                                      w.watch->pid(),
                                      " were dropped: the client was slow"));
    }
    w.subscription.Cancel();
    w.watch = nullptr;
  };

  const absl::Time start = absl::Now();
  const absl::Time deadline = start + duration;
  absl::Time next_liveness = start + options_.liveness_interval;
  while (absl::Now() < deadline && !context->IsCancelled() && !client_gone) {
    absl::SleepFor(std::min(options_.poll_interval, deadline - absl::Now()));
    for (Watched& w : watches) {
      if (w.watch != nullptr) drain(w);
    }
    if (absl::Now() < next_liveness) continue;
    next_liveness = absl::Now() + options_.liveness_interval;
    bool any = false;
    for (Watched& w : watches) {
      if (w.watch == nullptr) continue;
      if (ProcessRunning(w.watch->pid())) {
        any = true;
        continue;
      }
      // Its last events may still be in the ring buffer.
      tracker_->Flush();
      warnings.push_back(absl::StrCat("pid ", w.watch->pid(), " exited after ",
                                      absl::FormatDuration(absl::Now() - start),
                                      "; its pauses until then are reported"));
      finish(w);
    }
    if (!any) break;
  }
  tracker_->Flush();
  for (Watched& w : watches) {
    if (w.watch != nullptr) finish(w);
  }
  if (context->IsCancelled() || client_gone) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled");
  }
  std::sort(durations.begin(), durations.end());
  summary.set_p50_nanos(Quantile(durations, 0.50));
  summary.set_p99_nanos(Quantile(durations, 0.99));
  summary.set_max_nanos(durations.empty() ? 0 : durations.back());
  const uint64_t lost = tracker_->counters().ringbuf_full - lost_before;
  summary.set_lost_events(static_cast<int64_t>(lost));
  if (lost > 0) {
    warnings.push_back(absl::StrCat(
        "up to ", lost, " probe events were lost (ring buffer full)"));
  }
  for (std::string& w : warnings) summary.add_warnings(std::move(w));
  gspy::v1::GcPauseEvent last;
  *last.mutable_summary() = std::move(summary);
  writer->Write(last);
  return grpc::Status::OK;
}

}  // namespace gspy
