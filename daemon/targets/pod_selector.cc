#include "daemon/targets/pod_selector.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace gspy {
namespace {

const std::string* Find(const LabelList& labels, const std::string& key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool ValidKey(absl::string_view k) {
  if (k.empty() || k.size() > 317) return false;  // prefix/name, as Kubernetes
  return std::all_of(k.begin(), k.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
           c == '/';
  });
}

}  // namespace

absl::StatusOr<PodSelector> PodSelector::Parse(
    const gspy::v1::Selector& selector) {
  PodSelector out;
  for (const std::string& pod : selector.pods()) {
    std::vector<std::string> parts = absl::StrSplit(pod, '/');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pod \"", pod,
          "\" is not written namespace/name (e.g. shop/checkout-7d9f)"));
    }
    out.pods_.emplace_back(parts[0], parts[1]);
  }
  out.namespace_ = selector.namespace_();
  out.label_selector_text_ = selector.pod_label_selector();
  out.by_namespace_or_labels_ =
      !out.namespace_.empty() || !out.label_selector_text_.empty();
  for (absl::string_view term :
       absl::StrSplit(out.label_selector_text_, ',', absl::SkipWhitespace())) {
    term = absl::StripAsciiWhitespace(term);
    Requirement r;
    size_t pos;
    if ((pos = term.find("!=")) != absl::string_view::npos) {
      r = {std::string(term.substr(0, pos)), Op::kNotEquals,
           std::string(term.substr(pos + 2))};
    } else if ((pos = term.find("==")) != absl::string_view::npos) {
      r = {std::string(term.substr(0, pos)), Op::kEquals,
           std::string(term.substr(pos + 2))};
    } else if ((pos = term.find('=')) != absl::string_view::npos) {
      r = {std::string(term.substr(0, pos)), Op::kEquals,
           std::string(term.substr(pos + 1))};
    } else if (absl::ConsumePrefix(&term, "!")) {
      r = {std::string(term), Op::kNotExists, ""};
    } else {
      r = {std::string(term), Op::kExists, ""};
    }
    r.key = std::string(absl::StripAsciiWhitespace(r.key));
    r.value = std::string(absl::StripAsciiWhitespace(r.value));
    if (!ValidKey(r.key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pod label selector \"", out.label_selector_text_, "\": bad term \"",
          term, "\" (use k=v, k!=v, k or !k, separated by commas)"));
    }
    out.requirements_.push_back(std::move(r));
  }
  return out;
}

bool PodSelector::Matches(const ProcessMetadata& metadata) const {
  const std::string* ns = Find(metadata.labels, "namespace");
  const std::string* pod = Find(metadata.labels, "pod");
  if (ns == nullptr || pod == nullptr) return false;  // not in a known pod
  for (const auto& [n, name] : pods_) {
    if (*ns == n && *pod == name) return true;
  }
  if (!by_namespace_or_labels_) return false;
  if (!namespace_.empty() && *ns != namespace_) return false;
  for (const Requirement& r : requirements_) {
    const std::string* v = Find(metadata.pod_labels, r.key);
    switch (r.op) {
      case Op::kEquals:
        if (v == nullptr || *v != r.value) return false;
        break;
      case Op::kNotEquals:
        if (v != nullptr && *v == r.value) return false;
        break;
      case Op::kExists:
        if (v == nullptr) return false;
        break;
      case Op::kNotExists:
        if (v != nullptr) return false;
        break;
    }
  }
  return true;
}

std::string PodSelector::Describe() const {
  std::vector<std::string> parts;
  for (const auto& [n, name] : pods_) {
    parts.push_back(absl::StrCat("pod ", n, "/", name));
  }
  if (!namespace_.empty()) {
    parts.push_back(absl::StrCat("namespace ", namespace_));
  }
  if (!label_selector_text_.empty()) {
    parts.push_back(absl::StrCat("pods ", label_selector_text_));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace gspy
