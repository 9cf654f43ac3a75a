// The report of `gspy goroutines --watch`: the growing goroutine groups of
// each process, as a text table or as JSON (for scripts and the e2e test).
#ifndef GSPY_CLI_LEAK_REPORT_H_
#define GSPY_CLI_LEAK_REPORT_H_

#include <string>
#include <vector>

#include "golang/goroutines/leak_detector.h"

namespace gspy {

struct LeakReport {
  std::vector<ProcessLeaks> processes;
  // Said during the watch (processes that exited, failed snapshots).
  std::vector<std::string> warnings;
  bool ended_early = false;  // the processes exited or the watch was stopped
};

// Per process: a header line, then "no growing goroutine groups" or one
// row per growing group (rate, fit, counts, state, creator) with its stack
// and sample goroutine ids, then the groups that grew but not steadily.
std::string FormatLeakReportText(const LeakReport& report);

// {"processes":[{"pid":..,"growing":[{..}],"not_steady":[..]}],
//  "warnings":[..],"ended_early":false}
std::string FormatLeakReportJson(const LeakReport& report);

}  // namespace gspy

#endif  // GSPY_CLI_LEAK_REPORT_H_
