#include "daemon/aggregation/key_filter.h"

#include "absl/strings/str_format.h"
#include "daemon/aggregation/stack_locations.h"

namespace gspy {

bool KeyFilter::Keep(const GoProcess& proc, const LabelPairs& labels,
                     absl::string_view wait_reason,
                     absl::Span<const uint64_t> user, double weight) {
  seen_ += weight;
  if (filter_ == nullptr || filter_->empty()) {
    kept_ += weight;
    return true;
  }
  // The filter sees every label a sample can carry: the goroutine's, the
  // process's (namespace, pod, ...) and the wait reason.
  labels_ = labels;
  labels_.insert(labels_.end(), proc.metadata.labels.begin(),
                 proc.metadata.labels.end());
  if (!wait_reason.empty()) {
    labels_.emplace_back("wait_reason", std::string(wait_reason));
  }
  functions_.clear();
  if (filter_->uses_stack()) AppendFunctionNames(proc, user, &functions_);
  if (!filter_->Matches({labels_, status_, wait_reason, functions_})) {
    return false;
  }
  kept_ += weight;
  return true;
}

void KeyFilter::Report(absl::string_view filter_text, absl::string_view unit,
                       ProfileBuilder* builder,
                       std::vector<std::string>* warnings) const {
  if (filter_ == nullptr || filter_->empty()) return;
  std::string w = absl::StrFormat("filter \"%s\" kept %.0f of %.0f %s",
                                  filter_text, kept_, seen_, unit);
  builder->AddComment(w);
  if (warnings != nullptr) warnings->push_back(std::move(w));
}

}  // namespace gspy
