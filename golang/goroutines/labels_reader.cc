#include "golang/goroutines/labels_reader.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

constexpr uint64_t kBucketSize = 8 + 8 * 16 + 8 * 16 + 8;
constexpr uint8_t kMinTopHash = 5;
constexpr uint8_t kEvacuatedEmpty = 4;  // evacuatedX=2, Y=3, empty=4
constexpr int kMaxB = 8;                // 256 buckets: 2048 labels
constexpr int kMaxOverflow = 16;        // per bucket chain

absl::StatusOr<std::string> ReadGoString(const MemorySource& memory,
                                         uint64_t ptr, uint64_t len,
                                         const LabelLimits& limits) {
  if (len == 0) return std::string();
  if (len > limits.max_string) {
    return absl::DataLossError(
        absl::StrCat("a label string of ", len, " bytes"));
  }
  return memory.ReadAt(ptr, len);
}

absl::Status AddPair(const MemorySource& memory, const uint64_t kv[4],
                     const LabelLimits& limits, LabelList* out) {
  if (out->size() >= limits.max_labels) {
    return absl::DataLossError(
        absl::StrCat("more than ", limits.max_labels, " labels"));
  }
  absl::StatusOr<std::string> k = ReadGoString(memory, kv[0], kv[1], limits);
  if (!k.ok()) return k.status();
  absl::StatusOr<std::string> v = ReadGoString(memory, kv[2], kv[3], limits);
  if (!v.ok()) return v.status();
  out->emplace_back(*std::move(k), *std::move(v));
  return absl::OkStatus();
}

absl::Status ReadSlice(const MemorySource& memory, uint64_t label_map,
                       const LabelLimits& limits, LabelList* out) {
  uint64_t header[3];
  absl::Status s = memory.Read(
      label_map, absl::MakeSpan(reinterpret_cast<char*>(header), 24));
  if (!s.ok()) return s;
  const uint64_t ptr = header[0], len = header[1], cap = header[2];
  if (len == 0) return absl::OkStatus();
  if (len > cap || len > limits.max_labels) {
    return absl::DataLossError(
        absl::StrCat("a label slice of len ", len, " cap ", cap));
  }
  std::string list(len * 32, '\0');
  s = memory.Read(ptr, absl::MakeSpan(list.data(), list.size()));
  if (!s.ok()) return s;
  for (uint64_t i = 0; i < len; ++i) {
    uint64_t kv[4];
    std::memcpy(kv, list.data() + i * 32, 32);
    if (s = AddPair(memory, kv, limits, out); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// One bucket chain of a map[string]string; `old` marks a bucket of
// oldbuckets, whose slots count only if not yet evacuated.
absl::Status ReadBucketChain(const MemorySource& memory, uint64_t bucket,
                             bool old, const LabelLimits& limits,
                             LabelList* out) {
  for (int n = 0; bucket != 0 && n <= kMaxOverflow; ++n) {
    char b[kBucketSize];
    absl::Status s = memory.Read(bucket, absl::MakeSpan(b, kBucketSize));
    if (!s.ok()) return s;
    const auto* tophash = reinterpret_cast<const uint8_t*>(b);
    // An evacuated old bucket's entries live in the new buckets.
    if (old && tophash[0] > 1 && tophash[0] <= kEvacuatedEmpty) {
      return absl::OkStatus();
    }
    for (int slot = 0; slot < 8; ++slot) {
      if (tophash[slot] < kMinTopHash) continue;
      uint64_t kv[4];
      std::memcpy(kv, b + 8 + slot * 16, 16);
      std::memcpy(kv + 2, b + 8 + 8 * 16 + slot * 16, 16);
      if (s = AddPair(memory, kv, limits, out); !s.ok()) return s;
    }
    std::memcpy(&bucket, b + kBucketSize - 8, 8);
  }
  if (bucket != 0)
    return absl::DataLossError("a label map overflow chain loops");
  return absl::OkStatus();
}

absl::Status ReadMap(const MemorySource& memory, uint64_t label_map,
                     const LabelLimits& limits, LabelList* out) {
  absl::StatusOr<uint64_t> hmap = memory.ReadU64(label_map);
  if (!hmap.ok()) return hmap.status();
  if (*hmap == 0) return absl::OkStatus();
  char h[32];
  absl::Status s = memory.Read(*hmap, absl::MakeSpan(h, sizeof(h)));
  if (!s.ok()) return s;
  uint64_t count, buckets, oldbuckets;
  std::memcpy(&count, h, 8);
  const uint8_t b = static_cast<uint8_t>(h[9]);
  std::memcpy(&buckets, h + 16, 8);
  std::memcpy(&oldbuckets, h + 24, 8);
  if (count == 0) return absl::OkStatus();
  if (count > limits.max_labels || b > kMaxB) {
    return absl::DataLossError(
        absl::StrCat("a label map of ", count, " entries, B=", int{b}));
  }
  for (uint64_t i = 0; i < (uint64_t{1} << b); ++i) {
    s = ReadBucketChain(memory, buckets + i * kBucketSize, false, limits, out);
    if (!s.ok()) return s;
  }
  // Growing: oldbuckets has half as many buckets (or as many, for a
  // same-size grow, which only happens after deletes: never for labels).
  if (oldbuckets != 0 && b > 0) {
    for (uint64_t i = 0; i < (uint64_t{1} << (b - 1)); ++i) {
      s = ReadBucketChain(memory, oldbuckets + i * kBucketSize, true, limits,
                          out);
      if (!s.ok()) return s;
    }
  }
  if (out->size() != count) {
    return absl::DataLossError(absl::StrCat(
        "a label map counts ", count, " entries but holds ", out->size()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LabelList> ReadLabels(const MemorySource& memory,
                                     uint64_t label_map, LabelsLayout layout,
                                     const LabelLimits& limits) {
  LabelList out;
  if (label_map == 0) return out;
  absl::Status s = layout == LabelsLayout::kSlice
                       ? ReadSlice(memory, label_map, limits, &out)
                       : ReadMap(memory, label_map, limits, &out);
  if (!s.ok()) return s;
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace gspy
