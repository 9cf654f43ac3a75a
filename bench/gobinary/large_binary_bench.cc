// Symbolizer figures on a LARGE Go binary ($GSPY_BENCH_LARGE_BINARY, built by
// bench/gobinary/run.sh): cold and warm load, warm lookups per second with
// inline expansion (hot pcs, served by the frame cache, and pcs spread over
// the whole binary), `go tool addr2line` on the same addresses, and the RSS
// growth of a load against the pclntab size.
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bench/gobinary/spread_pcs.h"
#include "benchmark/benchmark.h"
#include "golang/binary/elf_file.h"
#include "golang/binary/frame_cache.h"
#include "golang/binary/go_binary.h"

namespace gspy {
namespace {

const std::string& BinaryPath() {
  static const std::string path = [] {
    const char* p = std::getenv("GSPY_BENCH_LARGE_BINARY");
    if (p == nullptr) {
      std::fprintf(stderr,
                   "set GSPY_BENCH_LARGE_BINARY (bench/gobinary/run.sh "
                   "builds one)\n");
      std::exit(2);
    }
    return std::string(p);
  }();
  return path;
}

const GoBinary& Binary() {
  static const GoBinary* bin = [] {
    auto b = GoBinary::Open(BinaryPath());
    if (!b.ok()) {
      std::fprintf(stderr, "%s\n", b.status().ToString().c_str());
      std::exit(2);
    }
    return b->release();
  }();
  return *bin;
}

// Evicts the binary from the page cache, so the next load reads the disk.
void DropPageCache(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  fdatasync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
}

const std::vector<uint64_t>& AllPcs() {
  static const auto* pcs = new std::vector<uint64_t>(SpreadPcs(Binary()));
  return *pcs;
}

// The hot set of a real profile: a thousand distinct pcs.
const std::vector<uint64_t>& HotPcs() {
  static const auto* pcs = [] {
    const auto& all = AllPcs();
    return new std::vector<uint64_t>(
        all.begin(), all.begin() + std::min<size_t>(1000, all.size()));
  }();
  return *pcs;
}

// A thousand distinct pcs inside inlined code (two or more frames each).
const std::vector<uint64_t>& HotInlinedPcs() {
  static const auto* pcs = [] {
    auto* v = new std::vector<uint64_t>;
    std::vector<Frame> frames;
    for (uint64_t pc : AllPcs()) {
      frames.clear();
      Binary().Symbolize(pc, &frames);
      if (frames.size() > 1) v->push_back(pc);
      if (v->size() == 1000) break;
    }
    if (v->empty()) v->push_back(AllPcs()[0]);
    return v;
  }();
  return *pcs;
}

struct Rss {
  double anon_mib = 0, file_mib = 0;
};
Rss ReadRss() {
  Rss r;
  std::ifstream in("/proc/self/status");
  std::string key;
  double kb;
  while (in >> key) {
    if (key == "RssAnon:" && in >> kb) r.anon_mib = kb / 1024;
    if (key == "RssFile:" && in >> kb) r.file_mib = kb / 1024;
  }
  return r;
}

// RSS growth of one load, and after every function has been symbolized
// (every pclntab page touched), against the size of .gopclntab. Anonymous
// memory is what we allocate; file memory is pages of the mapped binary
// (shared with the page cache, reclaimable).
void BM_LoadMemory(benchmark::State& state) {
  double pclntab_mib = 0;
  {
    std::ifstream in(BinaryPath(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
    auto elf = gobinary_internal::ElfFile::Parse(bytes);
    if (elf.ok()) {
      if (const auto* s = elf->FindSection(".gopclntab")) {
        pclntab_mib = s->size / 1048576.0;
      }
    }
  }
  for (auto _ : state) {
    DropPageCache(BinaryPath());
    malloc_trim(0);
    const Rss before = ReadRss();
    auto b = GoBinary::Open(BinaryPath());
    if (!b.ok()) {
      state.SkipWithError(b.status().ToString().c_str());
      return;
    }
    const Rss loaded = ReadRss();
    std::vector<Frame> frames;
    for (size_t i = 0; i < (*b)->function_count(); ++i) {
      auto f = (*b)->FunctionAt(i);
      if (!f) continue;
      frames.clear();
      (*b)->Symbolize(f->entry + (f->end - f->entry) / 2, &frames);
    }
    const Rss walked = ReadRss();
    // What is live: freed heap (libdw's inflated DWARF) returned to the OS.
    malloc_trim(0);
    const Rss live = ReadRss();
    state.counters["live_anon_MiB"] = live.anon_mib - before.anon_mib;
    state.counters["live_total_over_pclntab"] =
        (live.anon_mib + live.file_mib - before.anon_mib - before.file_mib) /
        std::max(pclntab_mib, 1e-9);
    state.counters["file_MiB"] = 0;
    state.counters["pclntab_MiB"] = pclntab_mib;
    state.counters["load_anon_MiB"] = loaded.anon_mib - before.anon_mib;
    state.counters["load_file_MiB"] = loaded.file_mib - before.file_mib;
    state.counters["walk_anon_MiB"] = walked.anon_mib - before.anon_mib;
    state.counters["walk_file_MiB"] = walked.file_mib - before.file_mib;
    state.counters["walk_total_over_pclntab"] =
        (walked.anon_mib + walked.file_mib - before.anon_mib -
         before.file_mib) /
        std::max(pclntab_mib, 1e-9);
    state.counters["cache_MiB"] =
        gobinary_internal::FrameCache::MemoryBytes() / 1048576.0;
    std::ifstream f(BinaryPath(), std::ios::ate | std::ios::binary);
    state.counters["file_MiB"] = static_cast<double>(f.tellg()) / 1048576.0;
    state.counters["functions"] = static_cast<double>((*b)->function_count());
  }
}
// Registered first: benchmarks run in order, so the heap is still fresh.
BENCHMARK(BM_LoadMemory)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_LoadCold(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    DropPageCache(BinaryPath());
    state.ResumeTiming();
    auto b = GoBinary::Open(BinaryPath());
    if (!b.ok()) state.SkipWithError(b.status().ToString().c_str());
    benchmark::DoNotOptimize(b);
    state.PauseTiming();
    b = absl::StatusOr<std::unique_ptr<GoBinary>>();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_LoadCold)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_LoadWarm(benchmark::State& state) {
  for (auto _ : state) {
    auto b = GoBinary::Open(BinaryPath());
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_LoadWarm)->Unit(benchmark::kMillisecond)->Iterations(5);

void Symbolize(benchmark::State& state, const std::vector<uint64_t>& pcs) {
  const GoBinary& bin = Binary();
  std::vector<Frame> frames;
  frames.reserve(16);
  size_t i = state.thread_index() * 7919;
  size_t nframes = 0;
  for (auto _ : state) {
    frames.clear();
    bin.Symbolize(pcs[i++ % pcs.size()], &frames);
    nframes += frames.size();
    benchmark::DoNotOptimize(frames.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["frames_per_pc"] =
      static_cast<double>(nframes) / std::max<int64_t>(1, state.iterations());
}

void BM_SymbolizeHot(benchmark::State& state) { Symbolize(state, HotPcs()); }
BENCHMARK(BM_SymbolizeHot)->ThreadRange(1, 2)->UseRealTime();

void BM_SymbolizeHotInlined(benchmark::State& state) {
  Symbolize(state, HotInlinedPcs());
}
BENCHMARK(BM_SymbolizeHotInlined)->ThreadRange(1, 2)->UseRealTime();

void BM_SymbolizeSpread(benchmark::State& state) { Symbolize(state, AllPcs()); }
BENCHMARK(BM_SymbolizeSpread)->ThreadRange(1, 2)->UseRealTime();

// `go tool addr2line` (the installed toolchain) on the first 100000 spread
// pcs, process start included: what a Go-tools based symbolizer pays.
void BM_GoToolAddr2Line(benchmark::State& state) {
  const auto& all = AllPcs();
  const size_t n = std::min<size_t>(100000, all.size());
  const std::string input = "/tmp/gspy_bench_addr2line_input";
  {
    std::ofstream out(input);
    char buf[32];
    for (size_t i = 0; i < n; ++i) {
      std::snprintf(buf, sizeof(buf), "0x%llx\n",
                    static_cast<unsigned long long>(all[i]));
      out << buf;
    }
  }
  const std::string cmd =
      "GOENV=off GOFLAGS= GOTOOLCHAIN=local go tool addr2line '" +
      BinaryPath() + "' < " + input + " > /dev/null";
  // Once untimed, so the first timed run does not pay for `go` itself
  // starting cold.
  if (std::system(cmd.c_str()) != 0) {
    state.SkipWithError("go tool addr2line failed");
    return;
  }
  for (auto _ : state) {
    if (std::system(cmd.c_str()) != 0) {
      state.SkipWithError("go tool addr2line failed");
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
  unlink(input.c_str());
}
BENCHMARK(BM_GoToolAddr2Line)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

}  // namespace
}  // namespace gspy

BENCHMARK_MAIN();
