#include "daemon/sources/kernel/counter_table.h"

#include <cstdint>
#include <string>

#include "bpf/block_types.h"
#include "bpf/gspy_types.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

GSPY_COUNTERS_STRUCT(TestCpuCounters, GSPY_CPU_COUNTERS);
GSPY_COUNTERS_STRUCT(TestBlockCounters, GSPY_BLOCK_COUNTERS);

TEST(CounterTableTest, ReadsEachFieldFromItsBpfIndex) {
  // A fake map: counter i holds 100 + i.
  const auto read = ReadCounters<TestBlockCounters>(
      [](uint32_t i) -> uint64_t { return 100 + i; });
  EXPECT_EQ(read.parks, 100 + GSPY_BLOCK_COUNTER(parks));
  EXPECT_EQ(read.parked_full, 100 + GSPY_BLOCK_COUNTER(parked_full));
  EXPECT_EQ(read.readies, 100 + GSPY_BLOCK_COUNTER(readies));
  EXPECT_EQ(read.skipped, 100 + GSPY_BLOCK_COUNTER(skipped));
}

TEST(CounterTableTest, OneColumnPerCounterWithItsMetric) {
  ASSERT_EQ(TestCpuCounters::Columns().size(),
            static_cast<size_t>(GSPY_CPU_COUNTER_COUNT));
  const auto& samples = TestCpuCounters::Columns()[GSPY_CPU_COUNTER(samples)];
  EXPECT_EQ(samples.field, &TestCpuCounters::samples);
  EXPECT_EQ(std::string(samples.metric), "gspy_cpu_samples_total");
  EXPECT_NE(std::string(samples.help), "");
}

}  // namespace
}  // namespace gspy
