// The cost of redaction at an exit: RedactPprof (decode, rewrite, encode,
// gzip) on a large CPU-like profile, against building the same profile's
// gzip bytes, which every pull pays anyway. The profile: 20,000 stacks 24
// frames deep over 5,000 functions, a user label with 1,000 values and a
// goid label per sample; 10% of the functions match the pattern.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "profile/pprof/profile_builder.h"
#include "profile/redact/redactor.h"

namespace gspy {
namespace {

std::unique_ptr<ProfileBuilder> LargeProfile() {
  auto b = std::make_unique<ProfileBuilder>(
      std::vector<ValueType>{{"samples", "count"}, {"cpu", "nanoseconds"}},
      ValueType{"cpu", "nanoseconds"}, 10'000'000);
  std::mt19937 rng(1);
  std::vector<uint64_t> locations;
  for (int i = 0; i < 5000; ++i) {
    const std::string fn =
        i % 10 == 0 ? absl::StrCat("main.handleSecret", i)
                    : absl::StrCat("example.com/pkg", i % 97, ".Func", i);
    const Frame f[] = {{fn, absl::StrCat("/src/pkg", i % 97, "/file.go"),
                        static_cast<int32_t>(i % 300), 1, false}};
    locations.push_back(b->LocationId(0, 0x400000 + 16 * i, f));
  }
  for (int s = 0; s < 20000; ++s) {
    std::vector<uint64_t> stack;
    for (int d = 0; d < 24; ++d) stack.push_back(locations[rng() % 5000]);
    const SampleLabel labels[] = {
        {.key = "user", .str = absl::StrCat("user", rng() % 1000, "@x.com")},
        {.key = "goid",
         .num = static_cast<int64_t>(rng() % 5000 + 1),
         .is_num = true}};
    b->AddSample(stack, {1, 10'000'000}, labels);
  }
  return b;
}

void BM_BuildGzip(benchmark::State& state) {
  auto b = LargeProfile();
  for (auto _ : state) benchmark::DoNotOptimize(b->SerializeGzip());
  state.counters["bytes"] = static_cast<double>(b->SerializeGzip().size());
}
BENCHMARK(BM_BuildGzip)->Unit(benchmark::kMillisecond);

void BM_RedactPprof(benchmark::State& state) {
  const std::string gz = LargeProfile()->SerializeGzip();
  auto r = *Redactor::Create({.functions = "handleSecret",
                              .files = R"(secrets\.go)",
                              .redact_labels = {"user"},
                              .anonymize_goroutine_ids = true},
                             *KeyedHash::FromKey(std::string(32, 'k')));
  for (auto _ : state) benchmark::DoNotOptimize(*r->RedactPprof(gz));
  state.counters["bytes"] = static_cast<double>(gz.size());
}
BENCHMARK(BM_RedactPprof)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gspy

BENCHMARK_MAIN();
