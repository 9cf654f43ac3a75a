// KeyFilter: applies a pull's filter (profile/filter) to the aggregated keys
// of a profile as it is built, and says in the profile how much it kept.
#ifndef GSPY_DAEMON_AGGREGATION_KEY_FILTER_H_
#define GSPY_DAEMON_AGGREGATION_KEY_FILTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "daemon/aggregation/sample_labels.h"
#include "profile/filter/sample_filter.h"
#include "profile/pprof/profile_builder.h"
#include "golang/process/go_process.h"

namespace gspy {

class KeyFilter {
 public:
  // `filter` may be null (keeps everything); `status` is what every sample
  // of this profile type is ("running" for CPU, "waiting" for block).
  KeyFilter(const SampleFilter* filter, absl::string_view status)
      : filter_(filter), status_(status) {}

  // Whether a key with these pprof labels, wait reason ("" if none) and user
  // stack of `proc` passes; `weight` (its samples or waits) is counted.
  bool Keep(const GoProcess& proc, const LabelPairs& labels,
            absl::string_view wait_reason, absl::Span<const uint64_t> user,
            double weight);

  // A comment (and warning) "filter F kept X of Y <unit>" when filtering.
  void Report(absl::string_view filter_text, absl::string_view unit,
              ProfileBuilder* builder,
              std::vector<std::string>* warnings) const;

 private:
  const SampleFilter* filter_;
  const std::string status_;
  double kept_ = 0, seen_ = 0;
  LabelPairs labels_;  // scratch
  std::vector<absl::string_view> functions_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_KEY_FILTER_H_
