// SampleFilter: gspy's one filter language, shared by CPU, block and
// sched-latency pulls and goroutine dumps. A filter is terms separated by
// spaces, all of which must hold; "-" before a term negates it; values with
// spaces go in double quotes:
//
//   label:handler=checkout      a pprof label (or namespace, pod, container,
//   label:handler!=checkout     node, wait_reason) equals / differs
//   label:handler=~^check       ... matches an RE2 pattern (partial match)
//   label:handler               ... is present
//   status:waiting              goroutine status: running, runnable,
//                               waiting, syscall, ... (CPU samples are
//                               running, block waits waiting)
//   reason:"chan receive"       wait reason equals (reason:~chan: RE2)
//   stack:~net/http\.           some frame's function matches an RE2 pattern
//   stack:main.handle           some frame's function is exactly this
//
// e.g. `label:handler=checkout status:waiting stack:~net/http\.`
#ifndef GSPY_PROFILE_FILTER_SAMPLE_FILTER_H_
#define GSPY_PROFILE_FILTER_SAMPLE_FILTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace re2 {
class RE2;
}

namespace gspy {

// What a filter looks at. Views must outlive the Matches call.
struct FilterSubject {
  absl::Span<const std::pair<std::string, std::string>> labels;
  absl::string_view status;                       // "" when not known
  absl::string_view wait_reason;                  // "" when not waiting
  absl::Span<const absl::string_view> functions;  // leaf first
};

// What one filter may cost: a filter comes from any client, and each RE2
// pattern holds up to its max_mem (8 MiB by default) for its program and
// DFA cache.
struct FilterLimits {
  size_t max_terms = 64;
  // Shared equally by the filter's patterns, each as its RE2 max_mem; a
  // pattern whose program does not fit its share does not compile.
  int64_t max_regex_bytes = int64_t{16} << 20;
};

// Which limit a filter reached, when Parse refuses it for one.
enum class FilterLimitHit { kNone, kTerms, kRegexMemory };

class SampleFilter {
 public:
  // INVALID_ARGUMENT naming the bad term (unknown field, bad RE2 pattern,
  // unbalanced quote). RESOURCE_EXHAUSTED naming the limit for a filter of
  // more than limits.max_terms terms (checked before any pattern compiles)
  // or a pattern too large for its share of limits.max_regex_bytes; `hit`,
  // when given, says which. An empty text is the filter that matches
  // everything.
  static absl::StatusOr<SampleFilter> Parse(absl::string_view text,
                                            const FilterLimits& limits = {},
                                            FilterLimitHit* hit = nullptr);

  SampleFilter();
  SampleFilter(SampleFilter&&) noexcept;
  SampleFilter& operator=(SampleFilter&&) noexcept;
  ~SampleFilter();

  bool empty() const { return terms_.empty(); }
  // Whether the filter looks at stacks (so callers symbolize only then).
  bool uses_stack() const;
  // The label keys its label: terms look at (for redaction's check).
  std::vector<std::string> label_keys() const;
  bool Matches(const FilterSubject& subject) const;

 private:
  enum class Field { kLabel, kStatus, kReason, kStack };
  enum class Op { kEquals, kNotEquals, kRegex, kPresent };
  struct Term {
    Field field;
    Op op;
    bool negated = false;
    std::string key;    // label key
    std::string value;  // exact value
    std::unique_ptr<re2::RE2> regex;
  };
  bool TermHolds(const Term& t, const FilterSubject& s) const;

  std::vector<Term> terms_;
};

}  // namespace gspy

#endif  // GSPY_PROFILE_FILTER_SAMPLE_FILTER_H_
