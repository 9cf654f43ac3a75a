#include "daemon/aggregation/sample_labels.h"

#include <algorithm>

namespace gspy {

LabelPairs DecodeLabels(const gspy_label* labels, int count,
                        const absl::flat_hash_set<std::string>& keep) {
  LabelPairs out;
  for (int i = 0; i < count && i < GSPY_MAX_LABELS; ++i) {
    const gspy_label& l = labels[i];
    std::string k(l.key, std::min<size_t>(l.key_len, GSPY_LABEL_KEY_LEN));
    if (!keep.empty() && !keep.contains(k)) continue;
    out.emplace_back(
        std::move(k),
        std::string(l.value,
                    std::min<size_t>(l.value_len, GSPY_LABEL_VALUE_LEN)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

LabelPairs KeepOnly(const LabelPairs& labels,
                    const absl::flat_hash_set<std::string>& keep) {
  if (keep.empty()) return labels;
  LabelPairs out;
  for (const auto& kv : labels) {
    if (keep.contains(kv.first)) out.push_back(kv);
  }
  return out;
}

void AppendSampleLabels(const LabelPairs& pprof_labels, uint64_t goid,
                        const GoProcess& process, bool with_pid,
                        std::vector<SampleLabel>* out) {
  for (const auto& [k, v] : pprof_labels) out->push_back({.key = k, .str = v});
  if (goid != 0) {
    out->push_back(
        {.key = "goid", .num = static_cast<int64_t>(goid), .is_num = true});
  }
  for (const auto& [k, v] : process.metadata.labels) {
    out->push_back({.key = k, .str = v});
  }
  if (with_pid) {
    out->push_back({.key = "pid", .num = process.pid, .is_num = true});
  }
}

}  // namespace gspy
