// Builds small profiles for the renderer tests from root-first stacks, so a
// test reads like the folded output it expects.
#ifndef GSPY_TESTS_UNIT_CLI_RENDER_SYNTHETIC_PROFILE_H_
#define GSPY_TESTS_UNIT_CLI_RENDER_SYNTHETIC_PROFILE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "golang/binary/go_binary.h"
#include "profile/pprof/profile_builder.h"

namespace gspy::testing {

struct StackSpec {
  std::vector<std::string> root_first;  // one physical frame per function
  int64_t value;
  std::string label_value;  // "phase" label; empty: none
};

inline perftools::profiles::Profile BuildProfile(
    const std::vector<StackSpec>& stacks) {
  ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}},
                   {"cpu", "nanoseconds"}, 10'000'000);
  for (const StackSpec& s : stacks) {
    std::vector<uint64_t> leaf_first;
    for (auto it = s.root_first.rbegin(); it != s.root_first.rend(); ++it) {
      const Frame frame{*it, "/src/x.go", 1, 1, false};
      // One address per function name keeps identical frames identical.
      const uint64_t address = std::hash<std::string>()(*it) | 1;
      leaf_first.push_back(b.LocationId(0, address, {&frame, 1}));
    }
    std::vector<SampleLabel> labels;
    if (!s.label_value.empty()) {
      labels.push_back({.key = "phase", .str = s.label_value});
    }
    b.AddSample(leaf_first, {1, s.value}, labels);
  }
  return b.proto();
}

}  // namespace gspy::testing

#endif  // GSPY_TESTS_UNIT_CLI_RENDER_SYNTHETIC_PROFILE_H_
