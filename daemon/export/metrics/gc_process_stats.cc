#include "daemon/export/metrics/gc_process_stats.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace gspy {

const std::vector<double>& GcPauseBuckets() {
  static const std::vector<double>* const kBuckets = new std::vector<double>{
      10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3,   2.5e-3,
      5e-3,  10e-3, 25e-3, 50e-3,  100e-3, 250e-3, 500e-3, 1};
  return *kBuckets;
}

MetricLabels GcProcessLabels(const GoProcess& proc) {
  MetricLabels labels = {
      {"pid", absl::StrCat(proc.pid)},
      {"exe", proc.exe_path},
      {"go_version",
       proc.binary != nullptr ? proc.binary->build_info().go_version : ""}};
  for (const auto& [k, v] : proc.metadata.labels) {
    if (k == "namespace" || k == "pod" || k == "container") {
      labels.emplace_back(k, v);
    }
  }
  return labels;
}

GcFamilies::GcFamilies()
    : pause_seconds("gspy_go_gc_pause_seconds", MetricType::kHistogram,
                    "Stop-the-world pauses of GC (sweep and mark termination) "
                    "of each watched Go process, since gspyd began watching "
                    "it."),
      cycles("gspy_go_gc_cycles_total", MetricType::kCounter,
             "GC cycles each watched Go process completed since gspyd began "
             "watching it."),
      stw_pauses("gspy_go_stw_pauses_total", MetricType::kCounter,
                 "Stop-the-world pauses of each watched Go process, by Go's "
                 "name for the reason (GC or not)."),
      stw_seconds("gspy_go_stw_pause_seconds_total", MetricType::kCounter,
                  "Total duration of the stop-the-world pauses of each "
                  "watched Go process, by reason.") {}

void GcFamilies::MoveTo(MetricFamilies* out) {
  out->push_back(std::move(pause_seconds));
  out->push_back(std::move(cycles));
  out->push_back(std::move(stw_pauses));
  out->push_back(std::move(stw_seconds));
}

GcProcessStats::GcProcessStats(MetricLabels labels)
    : labels_(std::move(labels)), gc_pauses_(GcPauseBuckets()) {}

void GcProcessStats::AddPause(bool gc, const std::string& reason,
                              double seconds) {
  if (gc) gc_pauses_.Observe(seconds);
  ReasonStats& r = by_reason_[reason];
  ++r.count;
  r.seconds += seconds;
}

void GcProcessStats::AppendTo(GcFamilies* families) const {
  families->pause_seconds.AddHistogram(labels_, gc_pauses_);
  families->cycles.Add(labels_, static_cast<double>(cycles_));
  for (const auto& [reason, r] : by_reason_) {
    MetricLabels labels = labels_;
    labels.emplace_back("reason", reason);
    families->stw_pauses.Add(labels, static_cast<double>(r.count));
    families->stw_seconds.Add(std::move(labels), r.seconds);
  }
}

}  // namespace gspy
