// Reads a goroutine's pprof labels (g.labels) from its memory: the C++
// counterpart of bpf/go_labels.h, without the BPF size limits but with
// bounds on everything a garbage pointer could make huge.
#ifndef GSPY_GOLANG_GOROUTINES_LABELS_READER_H_
#define GSPY_GOLANG_GOROUTINES_LABELS_READER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/runtime_layout.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {

using LabelList = std::vector<std::pair<std::string, std::string>>;

struct LabelLimits {
  size_t max_labels = 64;
  size_t max_string = 4096;  // longer keys/values: DATA_LOSS
};

// The labels at g.labels = `label_map` (0: none), sorted by key as Go's
// pprof prints them.
// - kSlice (Go 1.24+): *labelMap points at {ptr, len, cap} of
//   {key, value string} (32 bytes each).
// - kMap (Go <= 1.23): *labelMap points at the map word, a *hmap: count@0,
//   B@9, buckets@16, oldbuckets@24; 8-slot buckets of 272 bytes (tophash[8],
//   keys[8], values[8], overflow), a slot live when tophash >= 5; during
//   growth, old buckets not yet evacuated are read too.
// DATA_LOSS for counts or lengths past the limits or a map whose live slots
// disagree with its count (torn or garbage), OUT_OF_RANGE for unmapped
// memory.
absl::StatusOr<LabelList> ReadLabels(const MemorySource& memory,
                                     uint64_t label_map, LabelsLayout layout,
                                     const LabelLimits& limits = {});

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_LABELS_READER_H_
