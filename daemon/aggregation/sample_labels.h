// The labels of a profile sample: the pprof labels a BPF record carries,
// decoded into (key, value) pairs, and those gspy adds.
#ifndef GSPY_DAEMON_AGGREGATION_SAMPLE_LABELS_H_
#define GSPY_DAEMON_AGGREGATION_SAMPLE_LABELS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "bpf/gspy_types.h"
#include "profile/pprof/profile_builder.h"
#include "golang/process/go_process.h"

namespace gspy {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// The first `count` of `labels`, keeping only keys in `keep` (all when
// empty), sorted by key: Go <= 1.23 keeps labels in a map, 1.24+ in a slice
// sorted by key, and both must aggregate alike.
LabelPairs DecodeLabels(const gspy_label* labels, int count,
                        const absl::flat_hash_set<std::string>& keep);

// The pairs of `labels` whose key is in `keep` (all when `keep` is empty).
LabelPairs KeepOnly(const LabelPairs& labels,
                    const absl::flat_hash_set<std::string>& keep);

// Appends a sample's labels: its pprof labels, its goroutine id as the
// numeric label "goid" (unless 0), the process's metadata (namespace, pod,
// container, node) and, when a profile holds several processes, "pid".
void AppendSampleLabels(const LabelPairs& pprof_labels, uint64_t goid,
                        const GoProcess& process, bool with_pid,
                        std::vector<SampleLabel>* out);

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_SAMPLE_LABELS_H_
