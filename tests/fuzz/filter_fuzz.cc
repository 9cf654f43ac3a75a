// libFuzzer target for the filter language (SampleFilter::Parse, the text of
// --filter and of the API's filter field), then Matches on samples. Input:
// the filter on the first line; the lines after it make one more sample:
// its status, its wait reason, then K=V labels and function names.
// Seeds: corpus/filter/ (the README's examples and every kind of term).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "profile/filter/sample_filter.h"

namespace {

bool IsPlainTerm(absl::string_view t) {
  if (t.empty() || t[0] == '-') return false;
  for (char c : t) {
    if (c == '"' || c == ' ' || (c >= '\t' && c <= '\r')) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const absl::string_view text = input.substr(0, nl);
  absl::StatusOr<gspy::SampleFilter> filter = gspy::SampleFilter::Parse(text);
  if (!filter.ok()) return 0;
  if (text.empty() && !filter->empty()) __builtin_trap();

  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<absl::string_view> functions;
  absl::string_view status, reason;
  if (nl != absl::string_view::npos) {
    std::vector<absl::string_view> lines =
        absl::StrSplit(input.substr(nl + 1), '\n');
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i == 0) {
        status = lines[i];
      } else if (i == 1) {
        reason = lines[i];
      } else if (size_t eq = lines[i].find('='); eq != std::string::npos) {
        labels.emplace_back(lines[i].substr(0, eq), lines[i].substr(eq + 1));
      } else {
        functions.push_back(lines[i]);
      }
    }
  }
  const std::vector<std::pair<std::string, std::string>> real_labels = {
      {"handler", "checkout"}, {"namespace", "shop"}, {"pod", "web-0"}};
  const std::vector<absl::string_view> real_stack = {
      "runtime.gopark", "runtime.chanrecv", "net/http.(*conn).serve",
      "main.handle"};
  const gspy::FilterSubject subjects[] = {
      {labels, status, reason, functions},
      {real_labels, "waiting", "chan receive", real_stack},
      {{}, "running", "", {}},
  };
  for (const gspy::FilterSubject& s : subjects) {
    const bool matches = filter->Matches(s);
    if (filter->empty() && !matches) __builtin_trap();
    // One term and its negation: exactly one of them holds.
    if (IsPlainTerm(text)) {
      absl::StatusOr<gspy::SampleFilter> negated = gspy::SampleFilter::Parse(
          std::string("-").append(text.data(), text.size()));
      if (!negated.ok() || negated->Matches(s) == matches) __builtin_trap();
    }
  }
  return 0;
}
