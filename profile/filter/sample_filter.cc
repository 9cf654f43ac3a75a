#include "profile/filter/sample_filter.h"

#include <re2/re2.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace gspy {
namespace {

// Splits on unquoted spaces; a double-quoted run keeps its spaces and loses
// its quotes; \" and \\ inside quotes are a quote and a backslash.
absl::StatusOr<std::vector<std::string>> Tokenize(absl::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_token = false, quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '\\' && i + 1 < text.size() &&
          (text[i + 1] == '"' || text[i + 1] == '\\')) {
        cur.push_back(text[++i]);
      } else if (c == '"') {
        quoted = false;
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = in_token = true;
    } else if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      if (in_token) out.push_back(std::move(cur));
      cur.clear();
      in_token = false;
    } else {
      cur.push_back(c);
      in_token = true;
    }
  }
  if (quoted) {
    return absl::InvalidArgumentError(
        absl::StrCat("filter \"", text, "\": a quote is not closed"));
  }
  if (in_token) out.push_back(std::move(cur));
  return out;
}

}  // namespace

SampleFilter::SampleFilter() = default;
SampleFilter::SampleFilter(SampleFilter&&) noexcept = default;
SampleFilter& SampleFilter::operator=(SampleFilter&&) noexcept = default;
SampleFilter::~SampleFilter() = default;

absl::StatusOr<SampleFilter> SampleFilter::Parse(absl::string_view text,
                                                 const FilterLimits& limits,
                                                 FilterLimitHit* hit) {
  if (hit != nullptr) *hit = FilterLimitHit::kNone;
  absl::StatusOr<std::vector<std::string>> tokens = Tokenize(text);
  if (!tokens.ok()) return tokens.status();
  if (tokens->size() > limits.max_terms) {
    if (hit != nullptr) *hit = FilterLimitHit::kTerms;
    return absl::ResourceExhaustedError(absl::StrCat(
        "the filter has ", tokens->size(),
        " terms, more than the limit (--max-filter-terms=", limits.max_terms,
        ")"));
  }
  // Each pattern's share of the RE2 memory: every "~" is counted, a few
  // too many at worst (a "~" inside a label value), never too few.
  size_t patterns = 0;
  for (const std::string& token : *tokens) {
    if (absl::StrContains(token, "~")) ++patterns;
  }
  re2::RE2::Options re2_options;
  re2_options.set_log_errors(false);
  const int64_t share = limits.max_regex_bytes /
                        static_cast<int64_t>(std::max<size_t>(1, patterns));
  re2_options.set_max_mem(share);
  SampleFilter filter;
  for (const std::string& token : *tokens) {
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(
          "filter term \"", token, "\": ", why,
          " (terms: label:K=V, label:K!=V, label:K=~RE, label:K, status:S, "
          "reason:R, reason:~RE, stack:~RE, stack:FUNC; -TERM negates)"));
    };
    absl::string_view t = token;
    Term term;
    term.negated = absl::ConsumePrefix(&t, "-");
    const size_t colon = t.find(':');
    if (colon == absl::string_view::npos) {
      return bad("no field: before the value");
    }
    const absl::string_view field = t.substr(0, colon);
    absl::string_view rest = t.substr(colon + 1);
    if (field == "label") {
      term.field = Field::kLabel;
      size_t op_pos = rest.find_first_of("=!");
      term.key = std::string(rest.substr(0, op_pos));
      if (op_pos == absl::string_view::npos) {
        term.op = Op::kPresent;
      } else if (absl::StartsWith(rest.substr(op_pos), "!=")) {
        term.op = Op::kNotEquals;
        term.value = std::string(rest.substr(op_pos + 2));
      } else if (absl::StartsWith(rest.substr(op_pos), "=~")) {
        term.op = Op::kRegex;
        term.value = std::string(rest.substr(op_pos + 2));
      } else if (rest[op_pos] == '=') {
        term.op = Op::kEquals;
        term.value = std::string(rest.substr(op_pos + 1));
      } else {
        return bad("a label term is K=V, K!=V, K=~RE or K");
      }
      if (term.key.empty()) return bad("no label key");
    } else if (field == "status" || field == "reason" || field == "stack") {
      term.field = field == "status"   ? Field::kStatus
                   : field == "reason" ? Field::kReason
                                       : Field::kStack;
      if (absl::ConsumePrefix(&rest, "~")) {
        term.op = Op::kRegex;
      } else {
        term.op = Op::kEquals;
      }
      term.value = std::string(rest);
      if (term.value.empty()) return bad("no value");
    } else {
      return bad(absl::StrCat("unknown field \"", field, "\""));
    }
    if (term.op == Op::kRegex) {
      term.regex = std::make_unique<re2::RE2>(term.value, re2_options);
      if (term.regex->error_code() == re2::RE2::ErrorPatternTooLarge) {
        if (hit != nullptr) *hit = FilterLimitHit::kRegexMemory;
        return absl::ResourceExhaustedError(absl::StrCat(
            "filter term \"", token, "\": the pattern needs more than its ",
            share, " bytes of RE2 memory (--max-filter-regex-memory=",
            limits.max_regex_bytes, " shared by ", patterns, " patterns)"));
      }
      if (!term.regex->ok()) {
        return bad(absl::StrCat("bad RE2 pattern: ", term.regex->error()));
      }
    }
    filter.terms_.push_back(std::move(term));
  }
  return filter;
}

bool SampleFilter::uses_stack() const {
  for (const Term& t : terms_) {
    if (t.field == Field::kStack) return true;
  }
  return false;
}

std::vector<std::string> SampleFilter::label_keys() const {
  std::vector<std::string> keys;
  for (const Term& t : terms_) {
    if (t.field == Field::kLabel) keys.push_back(t.key);
  }
  return keys;
}

bool SampleFilter::TermHolds(const Term& t, const FilterSubject& s) const {
  auto value_matches = [&](absl::string_view v) {
    return t.op == Op::kRegex
               ? re2::RE2::PartialMatch(re2::StringPiece(v.data(), v.size()),
                                        *t.regex)
               : v == t.value;
  };
  switch (t.field) {
    case Field::kLabel: {
      for (const auto& [k, v] : s.labels) {
        if (k != t.key) continue;
        if (t.op == Op::kPresent) return true;
        if (t.op == Op::kNotEquals) {
          if (v == t.value) return false;
        } else if (value_matches(v)) {
          return true;
        }
      }
      // K!=V holds for a sample without K, as in Kubernetes selectors.
      return t.op == Op::kNotEquals;
    }
    case Field::kStatus:
      return value_matches(s.status);
    case Field::kReason:
      return value_matches(s.wait_reason);
    case Field::kStack:
      for (absl::string_view f : s.functions) {
        if (value_matches(f)) return true;
      }
      return false;
  }
  return false;
}

bool SampleFilter::Matches(const FilterSubject& subject) const {
  for (const Term& t : terms_) {
    if (TermHolds(t, subject) == t.negated) return false;
  }
  return true;
}

}  // namespace gspy
