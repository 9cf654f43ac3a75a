// MetricsRegistry: where components hang the metrics they export. Each
// registers a collector, a callback that adds its families when /metrics is
// scraped, so numbers are read where they live (BPF maps, trackers) and
// nothing has to be pushed on hot paths.
//
// A later component (e.g. block time by wait reason, goroutines by state)
// needs only: registry->Register("block", [&](MetricFamilies* out) {...}).
#ifndef GSPY_BASE_METRICS_REGISTRY_H_
#define GSPY_BASE_METRICS_REGISTRY_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/prometheus_text.h"

namespace gspy {

using MetricFamilies = std::vector<MetricFamily>;

class MetricsRegistry {
 public:
  // Appends the collector's families to `out`. Called on the HTTP server's
  // thread, one scrape at a time; it must not call Register or Unregister.
  using Collector = std::function<void(MetricFamilies* out)>;

  // Adds a collector; `name` labels its time in
  // gspy_metrics_collector_duration_seconds. Returns an id for Unregister.
  int Register(std::string name, Collector collector);
  // Removes a collector. Waits for a scrape that runs it to end, so that the
  // caller may destroy what the collector reads right after.
  void Unregister(int id);

  // Runs every collector and returns the text exposition. Families of the
  // same name from several collectors are merged into one group; a family
  // whose type differs from the first one of its name is dropped (a bug in a
  // collector; counted in gspy_metrics_families_dropped_total).
  std::string Scrape();

  // Applied to the labels of every sample of every scrape (gspyd's
  // redaction), so no collector can forget it. Set before the first scrape.
  void set_label_rewriter(std::function<void(MetricLabels*)> rewrite) {
    absl::MutexLock lock(&mu_);
    rewrite_ = std::move(rewrite);
  }

 private:
  struct Entry {
    int id;
    std::string name;
    Collector collector;
  };
  absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t scrapes_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void(MetricLabels*)> rewrite_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_BASE_METRICS_REGISTRY_H_
