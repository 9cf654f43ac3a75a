#include "daemon/export/metrics/health_collector.h"

#include <string>
#include <utility>

#include "daemon/export/metrics/counter_families.h"

namespace gspy {
namespace {

void AddOne(MetricFamilies* out, std::string name, MetricType type,
            std::string help, double value) {
  MetricFamily f(std::move(name), type, std::move(help));
  f.Add({}, value);
  out->push_back(std::move(f));
}

}  // namespace

void CollectHealth(const CpuSampler* sampler, const GcTracker* gc,
                   MetricFamilies* out) {
  if (sampler != nullptr) AppendCounterFamilies(sampler->ReadCounters(), out);
  if (gc != nullptr) {
    AppendCounterFamilies(gc->counters(), out);
    AddOne(out, "gspy_gc_attached_processes", MetricType::kGauge,
           "Go processes that carry the GC probes now (each its own, scoped to "
           "it).",
           static_cast<double>(gc->attached_processes()));
  }
}

}  // namespace gspy
