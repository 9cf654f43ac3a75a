// GcProcessStats: one Go process's GC and stop-the-world numbers since gspyd
// started watching it, and how they appear as metric families:
//   gspy_go_gc_pause_seconds         histogram of GC stop-the-world pauses
//                                    (sweep and mark termination: what Go's
//                                    /sched/pauses/total/gc:seconds counts)
//   gspy_go_gc_cycles_total          completed GC cycles
//   gspy_go_stw_pauses_total         every stop-the-world pause, by reason
//   gspy_go_stw_pause_seconds_total  their total duration, by reason
// The reason is a label of the counters only: a histogram per reason would
// multiply the series of every process by Go's ~15 reasons.
#ifndef GSPY_DAEMON_EXPORT_METRICS_GC_PROCESS_STATS_H_
#define GSPY_DAEMON_EXPORT_METRICS_GC_PROCESS_STATS_H_

#include <cstdint>
#include <map>
#include <string>

#include "base/metrics_registry.h"
#include "base/prometheus_text.h"
#include "golang/process/go_process.h"

namespace gspy {

// Bucket bounds of gspy_go_gc_pause_seconds, 10 us to 1 s: a healthy STW
// pause is tens to hundreds of microseconds, a bad one milliseconds.
const std::vector<double>& GcPauseBuckets();

// The labels of a process's series: pid, exe, go_version and, in
// Kubernetes, namespace, pod and container.
MetricLabels GcProcessLabels(const GoProcess& proc);

// The four families above, empty.
struct GcFamilies {
  GcFamilies();
  MetricFamily pause_seconds;
  MetricFamily cycles;
  MetricFamily stw_pauses;
  MetricFamily stw_seconds;
  void MoveTo(MetricFamilies* out);
};

class GcProcessStats {
 public:
  explicit GcProcessStats(MetricLabels labels);

  // One stop-the-world pause; `gc` says whether it is a GC pause, `reason`
  // is Go's name for it.
  void AddPause(bool gc, const std::string& reason, double seconds);
  // The count of completed cycles since the watch began (a running total).
  void set_cycles(uint64_t cycles) { cycles_ = cycles; }

  void AppendTo(GcFamilies* families) const;

 private:
  struct ReasonStats {
    uint64_t count = 0;
    double seconds = 0;
  };
  MetricLabels labels_;
  Histogram gc_pauses_;
  uint64_t cycles_ = 0;
  std::map<std::string, ReasonStats> by_reason_;  // sorted: stable output
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_GC_PROCESS_STATS_H_
