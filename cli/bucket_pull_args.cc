#include "cli/bucket_pull_args.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace gspy {

BucketPprofOptions BucketPullArgs::PprofOptions() const {
  BucketPprofOptions options;
  if (filter.has_value()) {
    options.filter = &*filter;
    options.filter_text = filter_text;
  }
  return options;
}

absl::StatusOr<BucketPullArgs> ParseBucketPullArgs(const CommandLine& cl,
                                                   absl::string_view what) {
  BucketPullArgs args;
  const std::vector<std::string> pids = cl.GetAll("pid");
  if (pids.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "profile ", what, " reads one process here: --pid=PID (once)"));
  }
  if (!absl::SimpleAtoi(pids[0], &args.pid) || args.pid <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--pid=", pids[0], ": not a pid"));
  }
  if (auto d = cl.Get("delta"); d && (!absl::ParseDuration(*d, &args.delta) ||
                                      args.delta <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        absl::StrCat("--delta=", *d, ": not a positive duration (e.g. 10s)"));
  }
  args.filter_text = cl.Get("filter").value_or("");
  absl::StatusOr<SampleFilter> filter = SampleFilter::Parse(args.filter_text);
  if (!filter.ok()) return filter.status();
  if (!filter->empty()) args.filter = *std::move(filter);
  args.use_symtab = !cl.Has("no-symtab");
  return args;
}

}  // namespace gspy
