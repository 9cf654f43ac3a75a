// The addresses both symbolizer benchmarks look up.
#ifndef GSPY_BENCH_GOBINARY_SPREAD_PCS_H_
#define GSPY_BENCH_GOBINARY_SPREAD_PCS_H_

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "golang/binary/go_binary.h"

namespace gspy {

// Three pcs inside every function, shuffled with a fixed seed so lookups
// miss the CPU caches the way a profile of the whole program would.
inline std::vector<uint64_t> SpreadPcs(const GoBinary& bin) {
  std::vector<uint64_t> pcs;
  for (size_t i = 0; i < bin.function_count(); ++i) {
    auto f = bin.FunctionAt(i);
    if (!f) continue;
    for (int k = 1; k <= 3; ++k) {
      pcs.push_back(f->entry + (f->end - f->entry) * k / 4);
    }
  }
  std::shuffle(pcs.begin(), pcs.end(), std::mt19937_64(1));
  return pcs;
}

}  // namespace gspy

#endif  // GSPY_BENCH_GOBINARY_SPREAD_PCS_H_
