// Symbolization cost per sample, which the daemon pays for every stack frame.
// Uses $GSPY_BENCH_GO_BINARY, else builds the test fixture with `go build`.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/gobinary/spread_pcs.h"
#include "benchmark/benchmark.h"
#include "golang/binary/go_binary.h"

namespace gspy {
namespace {

std::string BinaryPath() {
  if (const char* p = std::getenv("GSPY_BENCH_GO_BINARY")) return p;
  static const std::string path = [] {
    const std::string out = "/tmp/gspy_gobinary_bench_fixture";
    const std::string cmd = std::string("cd '") + GSPY_GOBINARY_FIXTURE_DIR +
                            "/inlinefix' && GOTOOLCHAIN=local CGO_ENABLED=0 "
                            "go build -o " +
                            out + " . >&2";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "go build failed\n");
      std::abort();
    }
    return out;
  }();
  return path;
}

const GoBinary& Binary() {
  static const GoBinary* bin = [] {
    auto b = GoBinary::Open(BinaryPath());
    if (!b.ok()) std::abort();
    return b->release();
  }();
  return *bin;
}

const std::vector<uint64_t>& SamplePcs() {
  static const auto* pcs = new std::vector<uint64_t>(SpreadPcs(Binary()));
  return *pcs;
}

void BM_Symbolize(benchmark::State& state) {
  const GoBinary& bin = Binary();
  const auto& pcs = SamplePcs();
  std::vector<Frame> frames;
  frames.reserve(16);
  size_t i = 0;
  for (auto _ : state) {
    frames.clear();
    bin.Symbolize(pcs[i++ % pcs.size()], &frames);
    benchmark::DoNotOptimize(frames.data());
  }
}
BENCHMARK(BM_Symbolize)->ThreadRange(1, 2);

void BM_FindFunction(benchmark::State& state) {
  const GoBinary& bin = Binary();
  const auto& pcs = SamplePcs();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bin.FindFunction(pcs[i++ % pcs.size()]));
  }
}
BENCHMARK(BM_FindFunction);

void BM_SpDelta(benchmark::State& state) {
  const GoBinary& bin = Binary();
  const auto& pcs = SamplePcs();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bin.SpDelta(pcs[i++ % pcs.size()]));
  }
}
BENCHMARK(BM_SpDelta);

void BM_Open(benchmark::State& state) {
  const std::string path = BinaryPath();
  for (auto _ : state) {
    auto b = GoBinary::Open(path);
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_Open)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gspy

BENCHMARK_MAIN();
