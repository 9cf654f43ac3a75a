// The command line of a profile read here, without gspyd, from the Go
// runtime's own profile buckets (`gspy profile heap|mutex --pid=PID`,
// `gspy profile block --source=runtime --pid=PID`): one --pid, an optional
// --delta window, --filter and --no-symtab, checked in one place for all.
#ifndef GSPY_CLI_BUCKET_PULL_ARGS_H_
#define GSPY_CLI_BUCKET_PULL_ARGS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/command_line.h"
#include "golang/profiles/bucket_pprof_options.h"
#include "profile/filter/sample_filter.h"

namespace gspy {

struct BucketPullArgs {
  int pid = 0;
  // What was added during the window; zero: everything since the start.
  absl::Duration delta = absl::ZeroDuration();
  std::optional<SampleFilter> filter;  // none without --filter
  std::string filter_text;
  bool use_symtab = true;  // false with --no-symtab

  // The pprof options for the filter; they point into *this.
  BucketPprofOptions PprofOptions() const;
};

// INVALID_ARGUMENT, naming the flag, for anything but one pid, a delta that
// is not a positive duration or a filter that does not parse. `what` names
// the profile in the message ("heap").
absl::StatusOr<BucketPullArgs> ParseBucketPullArgs(const CommandLine& cl,
                                                   absl::string_view what);

}  // namespace gspy

#endif  // GSPY_CLI_BUCKET_PULL_ARGS_H_
