#include "base/metrics_registry.h"

#include <string>

#include "daemon/export/metrics/block_collector.h"
#include "daemon/export/metrics/counter_families.h"
#include "daemon/export/metrics/grpc_metrics.h"
#include "daemon/export/metrics/health_collector.h"
#include "daemon/export/metrics/self_process_collector.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}

TEST(MetricsRegistryTest, LabelRewriterSeesEverySample) {
  MetricsRegistry registry;
  registry.Register("a", [](MetricFamilies* out) {
    MetricFamily f("gspy_pods", MetricType::kGauge, "Pods.");
    f.Add({{"pid", "1"}, {"user", "alice"}}, 1);
    f.Add({{"user", "bob"}, {"tenant", "acme"}}, 2);
    out->push_back(std::move(f));
    MetricFamily h("gspy_hist", MetricType::kHistogram, "Histogram.");
    Histogram hist({1.0});
    hist.Observe(0.5);
    h.AddHistogram({{"user", "carol"}}, hist);
    out->push_back(std::move(h));
  });
  registry.set_label_rewriter([](MetricLabels* labels) {
    MetricLabels kept;
    for (auto& [k, v] : *labels) {
      if (k == "tenant") continue;
      kept.emplace_back(k, k == "user" ? "hidden" : v);
    }
    *labels = std::move(kept);
  });
  const std::string text = registry.Scrape();
  for (const char* secret : {"alice", "bob", "carol", "acme", "tenant"}) {
    EXPECT_THAT(text, Not(HasSubstr(secret)));
  }
  EXPECT_THAT(text, HasSubstr("gspy_pods{pid=\"1\",user=\"hidden\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("gspy_hist_bucket{user=\"hidden\",le=\"1\"} 1"));
}

TEST(MetricsRegistryTest, MergesFamiliesOfOneNameIntoOneGroup) {
  MetricsRegistry registry;
  registry.Register("a", [](MetricFamilies* out) {
    MetricFamily f("gspy_shared", MetricType::kGauge, "Shared.");
    f.Add({{"from", "a"}}, 1);
    out->push_back(std::move(f));
  });
  registry.Register("b", [](MetricFamilies* out) {
    MetricFamily other("gspy_other", MetricType::kCounter, "Other.");
    other.Add({}, 5);
    out->push_back(std::move(other));
    MetricFamily f("gspy_shared", MetricType::kGauge, "Shared.");
    f.Add({{"from", "b"}}, 2);
    out->push_back(std::move(f));
    // Same name, another type: dropped, and counted.
    MetricFamily bad("gspy_shared", MetricType::kCounter, "Bad.");
    bad.Add({{"from", "bad"}}, 3);
    out->push_back(std::move(bad));
  });
  const std::string text = registry.Scrape();
  EXPECT_EQ(Count(text, "# TYPE gspy_shared gauge\n"), 1u);
  EXPECT_THAT(text, HasSubstr("# TYPE gspy_shared gauge\n"
                              "gspy_shared{from=\"a\"} 1\n"
                              "gspy_shared{from=\"b\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("bad")));
  EXPECT_THAT(text, HasSubstr("gspy_metrics_families_dropped_total 1\n"));
  EXPECT_THAT(text, HasSubstr("gspy_metrics_scrapes_total 1\n"));
  EXPECT_THAT(text, HasSubstr("gspy_metrics_collector_duration_seconds{"
                              "collector=\"b\"}"));
}

TEST(MetricsRegistryTest, UnregisteredCollectorIsNotCalled) {
  MetricsRegistry registry;
  int calls = 0;
  const int id = registry.Register("c", [&calls](MetricFamilies*) { ++calls; });
  registry.Scrape();
  registry.Unregister(id);
  registry.Scrape();
  EXPECT_EQ(calls, 1);
}

TEST(GrpcMetricsTest, CountsCallsErrorsAndInFlight) {
  GrpcMetrics m;
  m.CallStarted("/gspy.v1.Profiler/ProfileCpu");
  m.CallEnded("/gspy.v1.Profiler/ProfileCpu", grpc::NOT_FOUND);
  m.CallStarted("/gspy.v1.Profiler/ProfileCpu");
  m.CallEnded("/gspy.v1.Profiler/ProfileCpu", grpc::OK);
  m.CallStarted("/gspy.v1.GcPauses/WatchGcPauses");
  MetricFamilies out;
  m.Collect(&out);
  const std::string text = WriteFamilies(out);
  EXPECT_THAT(text, HasSubstr("gspy_grpc_calls_total{service=\"gspy.v1."
                              "Profiler\",method=\"ProfileCpu\",code=\"OK\"} "
                              "1\n"));
  EXPECT_THAT(text, HasSubstr("gspy_grpc_errors_total{service=\"gspy.v1."
                              "Profiler\",method=\"ProfileCpu\",code=\"NOT_"
                              "FOUND\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("gspy_grpc_errors_total{service=\"gspy.v1."
                                  "Profiler\",method=\"ProfileCpu\",code="
                                  "\"OK\"}")));
  EXPECT_THAT(text, HasSubstr("gspy_grpc_calls_in_flight{service=\"gspy.v1."
                              "GcPauses\",method=\"WatchGcPauses\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("gspy_grpc_calls_in_flight{service=\"gspy.v1."
                              "Profiler\",method=\"ProfileCpu\"} 0\n"));
}

TEST(HealthCollectorTest, SamplerCounterNames) {
  SamplerCounters c;
  c.samples = 10;
  c.ringbuf_full = 1;
  c.no_goroutine = 2;
  c.stack_errors = 3;
  MetricFamilies out;
  AppendCounterFamilies(c, &out);
  const std::string text = WriteFamilies(out);
  EXPECT_THAT(text, HasSubstr("# TYPE gspy_cpu_samples_total counter\n"
                              "gspy_cpu_samples_total 10\n"));
  EXPECT_THAT(text, HasSubstr("gspy_cpu_samples_lost_total 1\n"));
  EXPECT_THAT(text, HasSubstr("gspy_cpu_samples_without_goroutine_total 2\n"));
  EXPECT_THAT(text, HasSubstr("gspy_cpu_stack_errors_total 3\n"));
}

TEST(CounterFamiliesTest, ExportsOnlyTheCountersTheTableNames) {
  BlockCounters c;
  c.parks = 7;
  c.skipped = 4;
  c.parked_full = 99;  // exported only as part of a sum (block collector)
  MetricFamilies out;
  AppendCounterFamilies(c, &out);
  const std::string text = WriteFamilies(out);
  EXPECT_THAT(text, HasSubstr("# HELP gspy_block_parks_total runtime.gopark"));
  EXPECT_THAT(text, HasSubstr("gspy_block_parks_total 7\n"));
  EXPECT_THAT(text, HasSubstr("gspy_block_parks_skipped_total 4\n"));
  EXPECT_THAT(text, Not(HasSubstr(" 99\n")));
  EXPECT_EQ(out.size(), 3u);  // parks, stack errors, skipped
}

TEST(CounterFamiliesTest, GcCounterNames) {
  GcCounters c;
  c.events = 5;
  c.ringbuf_full = 2;
  MetricFamilies out;
  AppendCounterFamilies(c, &out);
  const std::string text = WriteFamilies(out);
  EXPECT_THAT(text, HasSubstr("gspy_gc_events_total 5\n"));
  EXPECT_THAT(text, HasSubstr("gspy_gc_events_lost_total 2\n"));
}

TEST(SelfProcessCollectorTest, ReadsOwnRssAndFds) {
  MetricFamilies out;
  CollectSelfProcess(&out);
  const std::string text = WriteFamilies(out);
  EXPECT_THAT(text, HasSubstr("# TYPE process_resident_memory_bytes gauge\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_open_fds gauge\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_THAT(text, Not(HasSubstr("process_resident_memory_bytes 0\n")));
}

}  // namespace
}  // namespace gspy
