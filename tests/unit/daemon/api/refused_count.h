// What gspy_requests_refused_total{reason} reads in an Admission's /metrics
// families, for the tests of the admission limits and of gRPC's refusals.
#ifndef GSPY_TESTS_UNIT_DAEMON_API_REFUSED_COUNT_H_
#define GSPY_TESTS_UNIT_DAEMON_API_REFUSED_COUNT_H_

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "daemon/api/admission.h"

namespace gspy::testing {

// The series' value; a test failure and -1 when it is missing.
inline double Refused(const Admission& a, absl::string_view reason) {
  MetricFamilies families;
  a.Collect(&families);
  const std::string text = WriteFamilies(std::move(families));
  const std::string needle =
      absl::StrCat("gspy_requests_refused_total{reason=\"", reason, "\"} ");
  const size_t at = text.find(needle);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no " << needle << " in\n" << text;
    return -1;
  }
  return std::stod(text.substr(at + needle.size()));
}

}  // namespace gspy::testing

#endif  // GSPY_TESTS_UNIT_DAEMON_API_REFUSED_COUNT_H_
