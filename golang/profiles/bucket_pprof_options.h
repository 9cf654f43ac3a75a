// What a profile built from the runtime's buckets carries beyond what the
// program's own runtime/pprof writes, when gspyd serves it: the pull's
// filter (profile/filter) and the process's labels (pod, namespace, pid),
// as gspyd's other profiles have them. Empty: exactly Go's profile.
#ifndef GSPY_GOLANG_PROFILES_BUCKET_PPROF_OPTIONS_H_
#define GSPY_GOLANG_PROFILES_BUCKET_PPROF_OPTIONS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "profile/filter/sample_filter.h"

namespace gspy {

struct BucketPprofOptions {
  // Keeps only the samples it matches (null: all). Its label: terms see
  // `labels`, its stack: terms every frame (inlined ones included); a
  // sample has no status or wait reason.
  const SampleFilter* filter = nullptr;
  std::string filter_text;  // for the comment saying what it kept
  // Added to every sample.
  std::vector<std::pair<std::string, std::string>> labels;
  bool pid_label = false;  // numeric label "pid"
};

}  // namespace gspy

#endif  // GSPY_GOLANG_PROFILES_BUCKET_PPROF_OPTIONS_H_
