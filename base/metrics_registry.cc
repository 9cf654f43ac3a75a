#include "base/metrics_registry.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace gspy {

int MetricsRegistry::Register(std::string name, Collector collector) {
  absl::MutexLock lock(&mu_);
  const int id = next_id_++;
  entries_.push_back({id, std::move(name), std::move(collector)});
  return id;
}

void MetricsRegistry::Unregister(int id) {
  absl::MutexLock lock(&mu_);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [id](const Entry& e) { return e.id == id; }),
                 entries_.end());
}

std::string MetricsRegistry::Scrape() {
  // The lock is held while collectors run: scrapes are rare (seconds apart)
  // and holding it is what lets Unregister promise the collector is done.
  absl::MutexLock lock(&mu_);
  ++scrapes_;
  MetricFamilies merged;
  absl::flat_hash_map<std::string, size_t> index;
  MetricFamily durations("gspy_metrics_collector_duration_seconds",
                         MetricType::kGauge,
                         "How long each collector took in this scrape.");
  for (const Entry& e : entries_) {
    MetricFamilies out;
    const absl::Time start = absl::Now();
    e.collector(&out);
    durations.Add({{"collector", e.name}},
                  absl::ToDoubleSeconds(absl::Now() - start));
    for (MetricFamily& f : out) {
      auto [it, inserted] = index.try_emplace(f.name(), merged.size());
      if (inserted) {
        merged.push_back(std::move(f));
      } else if (merged[it->second].type() == f.type()) {
        merged[it->second].Merge(std::move(f));
      } else {
        ++dropped_;
      }
    }
  }
  merged.push_back(std::move(durations));
  MetricFamily scrapes("gspy_metrics_scrapes_total", MetricType::kCounter,
                       "Scrapes of /metrics served, this one included.");
  scrapes.Add({}, static_cast<double>(scrapes_));
  merged.push_back(std::move(scrapes));
  MetricFamily dropped(
      "gspy_metrics_families_dropped_total", MetricType::kCounter,
      "Families dropped because another collector used the name with another "
      "type.");
  dropped.Add({}, static_cast<double>(dropped_));
  merged.push_back(std::move(dropped));
  if (rewrite_) {
    for (MetricFamily& f : merged) f.RewriteLabels(rewrite_);
  }
  return WriteFamilies(std::move(merged));
}

}  // namespace gspy
