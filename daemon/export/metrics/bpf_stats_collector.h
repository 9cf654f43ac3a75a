// BPF programs' run counts and run time, and BPF map fill levels, of the
// programs and maps gspyd has loaded.
//
// The kernel counts run_cnt and run_time_ns only while BPF statistics are
// enabled (they cost two clock reads per program run). bpf_enable_stats()
// enables them for as long as the returned fd stays open, so the collector
// holds that fd for the daemon's lifetime, i.e. only when metrics are on.
//
// It finds the programs and maps through gspyd's own file descriptors
// (/proc/self/fd, anon_inode:bpf-prog and bpf-map), so the CPU sampler and
// the GC and block trackers need not expose their skeletons, and whatever a
// later component loads is counted too.
#ifndef GSPY_DAEMON_EXPORT_METRICS_BPF_STATS_COLLECTOR_H_
#define GSPY_DAEMON_EXPORT_METRICS_BPF_STATS_COLLECTOR_H_

#include <memory>
#include <string>

#include "base/metrics_registry.h"

namespace gspy {

class BpfStatsCollector {
 public:
  // Enables BPF statistics (run_cnt, run_time_ns). When the kernel refuses
  // (before 5.8, or without CAP_SYS_ADMIN), `warning` says so and the
  // counts stay at 0 unless sysctl kernel.bpf_stats_enabled is 1.
  static std::unique_ptr<BpfStatsCollector> Create(std::string* warning);
  ~BpfStatsCollector();
  BpfStatsCollector(const BpfStatsCollector&) = delete;
  BpfStatsCollector& operator=(const BpfStatsCollector&) = delete;

  bool stats_enabled() const { return stats_fd_ >= 0; }

  // gspy_bpf_program_{runs,run_seconds,recursion_misses}_total{program},
  // gspy_bpf_map_max_entries{map,type}, gspy_bpf_map_entries{map} (hash
  // and stack maps, by walking their keys), gspy_bpf_ringbuf_used_bytes{map}.
  void Collect(MetricFamilies* out) const;

 private:
  explicit BpfStatsCollector(int stats_fd) : stats_fd_(stats_fd) {}
  const int stats_fd_;  // -1: statistics not enabled by us
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_BPF_STATS_COLLECTOR_H_
