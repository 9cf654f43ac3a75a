#include "daemon/aggregator/sample_labels.h"

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

}  // namespace gspy
