#include "daemon/export/metrics/block_collector.h"

#include <string>

#include "daemon/export/metrics/counter_families.h"

namespace gspy {

void CollectBlock(BlockTracker* tracker, MetricFamilies* out) {
  // The waits still in the ring buffer (drained every 20 ms) ended before
  // the scrape: count them.
  tracker->Flush();
  MetricFamily waits("gspy_go_block_waits_total", MetricType::kCounter,
                     "Goroutine waits that ended while a block, "
                     "sched-latency or wall pull ran, by wait reason "
                     "(scaled when the probes were duty-cycled).");
  MetricFamily seconds("gspy_go_block_wait_seconds_total", MetricType::kCounter,
                       "Time those waits lasted, park to wake-up, by wait "
                       "reason.");
  for (const BlockWaitTotals& t : tracker->WaitTotals()) {
    const MetricLabels labels = {{"pid", std::to_string(t.pid)},
                                 {"reason", t.reason}};
    waits.Add(labels, t.waits);
    seconds.Add(labels, t.seconds);
  }
  out->push_back(std::move(waits));
  out->push_back(std::move(seconds));

  const BlockCounters c = tracker->counters();
  auto counter = [&](const char* name, const char* help, double value) {
    MetricFamily f(name, MetricType::kCounter, help);
    f.Add({}, value);
    out->push_back(std::move(f));
  };
  AppendCounterFamilies(c, out);
  counter("gspy_block_waits_lost_total",
          "Waits lost because the parked map or the ring buffer was full.",
          static_cast<double>(c.parked_full + c.ringbuf_full));
  const BlockTrapStats trap = tracker->trap_stats();
  counter("gspy_block_trap_windows_total",
          "Windows the block probes were attached for under the trap duty "
          "cycle (--block-detach-above-parks-per-second).",
          static_cast<double>(trap.windows));
  counter("gspy_block_long_waits_dropped_total",
          "Waits left out of duty-cycled pulls for being longer than half a "
          "window.",
          static_cast<double>(trap.long_waits_dropped));
  MetricFamily detached("gspy_block_probes_detached", MetricType::kGauge,
                        "1 while the trap duty cycle has the block probes "
                        "detached (between two windows).");
  detached.Add({}, trap.detached ? 1 : 0);
  out->push_back(std::move(detached));
  MetricFamily processes(
      "gspy_block_attached_processes", MetricType::kGauge,
      "Go processes carrying the block probes now (each its own, scoped to "
      "it: the other processes of a binary do not trap).");
  processes.Add({}, static_cast<double>(tracker->attached_processes()));
  out->push_back(std::move(processes));
}

void CollectSampledBlock(const SampledWaitTotals& totals, MetricFamilies* out) {
  // Not the exact series above under another name: those count waits that
  // ended under a pull's probes, these estimate the time goroutines spent
  // waiting from sweeps of their states, with no probe, all the time.
  MetricFamily seconds(
      "gspy_go_block_sampled_wait_seconds_total", MetricType::kCounter,
      "Sampled (no probes): goroutine-seconds spent waiting, by wait reason, "
      "estimated from sweeps of the goroutines' states: each sweep charges "
      "every goroutine seen waiting with the time since the previous sweep. "
      "Processes whose block or wall profiles continuous mode pushes.");
  MetricFamily waits(
      "gspy_go_block_sampled_waits_total", MetricType::kCounter,
      "Sampled (no probes): distinct waits the sweeps observed, by wait "
      "reason; a wait that began and ended between two sweeps is not seen, "
      "so this undercounts short waits.");
  for (const SampledWaitTotal& t : totals.Totals()) {
    const MetricLabels labels = {{"pid", std::to_string(t.pid)},
                                 {"reason", t.reason}};
    seconds.Add(labels, t.seconds);
    waits.Add(labels, static_cast<double>(t.waits));
  }
  out->push_back(std::move(seconds));
  out->push_back(std::move(waits));
}

}  // namespace gspy
