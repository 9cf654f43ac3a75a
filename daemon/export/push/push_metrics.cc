#include "daemon/export/push/push_metrics.h"

#include <string>
#include <utility>

namespace gspy {

void AppendPushFamilies(const std::vector<PushSenderStats>& senders,
                        const ContinuousStats& profiler, MetricFamilies* out) {
  const auto d = [](auto v) { return static_cast<double>(v); };
  MetricFamily pushed("gspy_push_profiles_total", MetricType::kCounter,
                      "Profiles the backend accepted.");
  MetricFamily requests("gspy_push_requests_total", MetricType::kCounter,
                        "Push requests sent, retries included.");
  MetricFamily errors("gspy_push_request_errors_total", MetricType::kCounter,
                      "Push requests that failed.");
  MetricFamily retries("gspy_push_retries_total", MetricType::kCounter,
                       "Push requests that were retries of a failed one.");
  MetricFamily dropped(
      "gspy_push_dropped_profiles_total", MetricType::kCounter,
      "Profiles given up on: queue_full (the queue's bound), "
      "retries_exhausted, rejected (an error not worth retrying), stopped "
      "(still queued when gspyd stopped).");
  MetricFamily queued("gspy_push_queue_profiles", MetricType::kGauge,
                      "Profiles waiting to be sent.");
  MetricFamily queued_bytes("gspy_push_queue_bytes", MetricType::kGauge,
                            "Bytes of the profiles waiting to be sent.");
  for (const PushSenderStats& s : senders) {
    const MetricLabels b = {{"backend", s.backend}};
    pushed.Add(b, d(s.pushed));
    requests.Add(b, d(s.requests));
    errors.Add(b, d(s.request_errors));
    retries.Add(b, d(s.retries));
    const std::pair<const char*, uint64_t> reasons[] = {
        {"queue_full", s.dropped_queue_full},
        {"retries_exhausted", s.dropped_retries_exhausted},
        {"rejected", s.dropped_rejected},
        {"stopped", s.dropped_at_stop}};
    for (const auto& [reason, n] : reasons) {
      dropped.Add({{"backend", s.backend}, {"reason", reason}}, d(n));
    }
    queued.Add(b, d(s.queue_profiles));
    queued_bytes.Add(b, d(s.queue_bytes));
  }
  for (MetricFamily* f : {&pushed, &requests, &errors, &retries, &dropped,
                          &queued, &queued_bytes}) {
    out->push_back(std::move(*f));
  }
  MetricFamily processes("gspy_continuous_processes", MetricType::kGauge,
                         "Go processes continuous mode profiles now.");
  processes.Add({}, d(profiler.processes));
  out->push_back(std::move(processes));
  MetricFamily cut("gspy_continuous_profiles_total", MetricType::kCounter,
                   "Profiles continuous mode made, by type (--push-profiles): "
                   "one per process per interval with samples, whatever the "
                   "number of backends.");
  for (const char* type : {"cpu", "block", "wall", "heap", "goroutine"}) {
    auto it = profiler.profiles_cut.find(type);
    cut.Add({{"type", type}},
            d(it == profiler.profiles_cut.end() ? 0 : it->second));
  }
  out->push_back(std::move(cut));
  MetricFamily heap("gspy_continuous_heap_unavailable_total",
                    MetricType::kCounter,
                    "Processes continuous mode pushes no heap profile of: "
                    "the binary does not link the memory profiler "
                    "(disableMemoryProfiling), MemProfileRate is 0, or the "
                    "runtime's buckets cannot be found.");
  heap.Add({}, d(profiler.heap_unavailable));
  out->push_back(std::move(heap));
  MetricFamily sampled("gspy_continuous_sampled_unavailable_total",
                       MetricType::kCounter,
                       "Processes continuous mode pushes no block or wall "
                       "profile of: their goroutines cannot be swept (unknown "
                       "runtime layout, no allgs).");
  sampled.Add({}, d(profiler.sampled_unavailable));
  out->push_back(std::move(sampled));
  MetricFamily goroutines("gspy_continuous_goroutine_errors_total",
                          MetricType::kCounter,
                          "Goroutine profiles continuous mode could not make: "
                          "the goroutines could not be read, or took more "
                          "than 64 MiB.");
  goroutines.Add({}, d(profiler.goroutine_errors));
  out->push_back(std::move(goroutines));
}

}  // namespace gspy
