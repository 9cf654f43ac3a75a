// GoroutineCut: continuous mode's goroutine profile of one process, taken at
// each cut with gspy's goroutine reader from outside (process_vm_readv: no
// probe, no stop): one sample per distinct stack and label set, counting
// the goroutines there, as Go's pprof.Lookup("goroutine") at debug=0 (the
// runtime's own goroutines left out as Go does).
#ifndef GSPY_DAEMON_EXPORT_PUSH_GOROUTINE_CUT_H_
#define GSPY_DAEMON_EXPORT_PUSH_GOROUTINE_CUT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "golang/goroutines/allgs_finder.h"
#include "golang/process/go_process.h"

namespace gspy {

class GoroutineCut {
 public:
  // `process` as Inspect returns it (its load bias is needed).
  // `max_bytes` bounds the goroutines kept of one dump (their stacks and
  // labels); a larger dump is not sent.
  GoroutineCut(GoProcess process, int64_t max_bytes)
      : process_(std::move(process)), max_bytes_(max_bytes) {}

  // The goroutines now, as a gzip-compressed pprof (goroutine/count over
  // goroutine/count, time `now`, no duration). NOT_FOUND: the process is
  // gone; RESOURCE_EXHAUSTED: over max_bytes.
  absl::StatusOr<std::string> Take(absl::Time now);

 private:
  const GoProcess process_;
  const int64_t max_bytes_;
  // Where the last dump found allgs: not searched for again.
  AllgsLocation allgs_;
  bool have_allgs_ = false;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_GOROUTINE_CUT_H_
