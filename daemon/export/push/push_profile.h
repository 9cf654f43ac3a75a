// What continuous mode sends: one pprof of one process over one interval,
// with the labels of its series, and how those labels are made.
#ifndef GSPY_DAEMON_EXPORT_PUSH_PUSH_PROFILE_H_
#define GSPY_DAEMON_EXPORT_PUSH_PUSH_PROFILE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "golang/process/go_process.h"
#include "golang/process/process_labels.h"

namespace gspy {

struct PushProfile {
  // The series' labels, sorted by name, each name once: __name__,
  // service_name, pid, exe, then the process's metadata (namespace, pod, ...)
  // and static ones.
  LabelList labels;
  std::string pprof;  // gzip-compressed profile.proto
  std::string id;     // a random UUID, for the backend's de-duplication
  absl::Time start;
  absl::Time end;

  size_t bytes() const;  // what it costs in a queue
};

struct PushLabelOptions {
  // Pyroscope's and Parca's name of the profile type: "process_cpu" for CPU.
  std::string profile_name = "process_cpu";
  // Overrides service_name (empty: from the process).
  std::string service_name;
  // Added to every series (e.g. cluster=prod); the process's own win.
  LabelList static_labels;
};

// The service name a backend groups the process's profiles by: its main
// module's path (e.g. "example.com/shop/checkout"), or the executable's base
// name when the binary has no real module path (go build of loose files:
// "command-line-arguments").
std::string ServiceNameOf(const GoProcess& process);

// The labels of a process's series. `metadata` is where it runs (a
// ProcessLabeler's answer: namespace, pod, container, node); names a backend
// would reject (not [a-zA-Z_][a-zA-Z0-9_]*) are rewritten with '_'.
LabelList PushLabels(const GoProcess& process, const ProcessMetadata& metadata,
                     const PushLabelOptions& options);

// A random (version 4) UUID in its text form.
std::string NewProfileId();

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_PUSH_PROFILE_H_
