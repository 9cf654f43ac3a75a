// The pprof labels a BPF record carries, decoded into (key, value) pairs.
#ifndef GSPY_DAEMON_AGGREGATOR_SAMPLE_LABELS_H_
#define GSPY_DAEMON_AGGREGATOR_SAMPLE_LABELS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "bpf/gspy_types.h"

namespace gspy {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// The first `count` of `labels`, keeping only keys in `keep` (all when
// empty), sorted by key: Go <= 1.23 keeps labels in a map, 1.24+ in a slice
// sorted by key, and both must aggregate alike.
LabelPairs DecodeLabels(const gspy_label* labels, int count,
                        const absl::flat_hash_set<std::string>& keep);

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATOR_SAMPLE_LABELS_H_
