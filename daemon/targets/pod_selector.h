// The Kubernetes part of a Selector: pods by "namespace/name", or a namespace
// and an equality-based pod label selector, matched against a process's
// metadata (k8s).
#ifndef GSPY_DAEMON_TARGETS_POD_SELECTOR_H_
#define GSPY_DAEMON_TARGETS_POD_SELECTOR_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/process/process_labels.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

class PodSelector {
 public:
  // INVALID_ARGUMENT for a pod not written "namespace/name" or a label
  // selector that does not parse.
  static absl::StatusOr<PodSelector> Parse(const gspy::v1::Selector& selector);

  // Whether the selector has a Kubernetes part at all.
  bool empty() const { return pods_.empty() && !by_namespace_or_labels_; }
  bool Matches(const ProcessMetadata& metadata) const;
  // For messages: "pod shop/checkout-1", "namespace shop, pods app=x".
  std::string Describe() const;

 private:
  enum class Op { kEquals, kNotEquals, kExists, kNotExists };
  struct Requirement {
    std::string key;
    Op op;
    std::string value;
  };

  std::vector<std::pair<std::string, std::string>> pods_;  // namespace, name
  bool by_namespace_or_labels_ = false;
  std::string namespace_;
  std::vector<Requirement> requirements_;
  std::string label_selector_text_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_TARGETS_POD_SELECTOR_H_
