#include "daemon/export/metrics/health_collector.h"

#include <string>
#include <utility>

namespace gspy {
namespace {

void AddOne(MetricFamilies* out, std::string name, MetricType type,
            std::string help, double value) {
  MetricFamily f(std::move(name), type, std::move(help));
  f.Add({}, value);
  out->push_back(std::move(f));
}

}  // namespace

void AppendSamplerFamilies(const SamplerCounters& c, MetricFamilies* out) {
  const auto d = [](uint64_t v) { return static_cast<double>(v); };
  AddOne(out, "gspy_cpu_samples_total", MetricType::kCounter,
         "CPU samples the BPF sampler sent to gspyd.", d(c.samples));
  AddOne(out, "gspy_cpu_samples_lost_total", MetricType::kCounter,
         "CPU samples lost because the ring buffer was full.",
         d(c.ringbuf_full));
  AddOne(out, "gspy_cpu_samples_without_goroutine_total", MetricType::kCounter,
         "CPU samples of a watched process in which no goroutine was found "
         "(e.g. the scheduler or cgo).",
         d(c.no_goroutine));
  AddOne(out, "gspy_cpu_samples_labels_truncated_total", MetricType::kCounter,
         "CPU samples whose pprof labels did not all fit.",
         d(c.labels_truncated));
  AddOne(out, "gspy_cpu_stack_errors_total", MetricType::kCounter,
         "CPU samples whose user stack could not be read.", d(c.stack_errors));
}

void CollectHealth(const CpuSampler* sampler, const GcTracker* gc,
                   MetricFamilies* out) {
  if (sampler != nullptr) AppendSamplerFamilies(sampler->ReadCounters(), out);
  if (gc != nullptr) {
    AddOne(out, "gspy_gc_events_total", MetricType::kCounter,
           "GC and stop-the-world probe events sent to gspyd.",
           static_cast<double>(gc->events_sent()));
    AddOne(out, "gspy_gc_events_lost_total", MetricType::kCounter,
           "GC probe events lost because the ring buffer was full.",
           static_cast<double>(gc->ringbuf_full()));
    AddOne(out, "gspy_gc_attached_binaries", MetricType::kGauge,
           "Go binaries that carry the GC probes now.",
           static_cast<double>(gc->attached_binaries()));
  }
}

}  // namespace gspy
