// WaitReasons: names gopark's reason numbers for one Go version.
#ifndef GSPY_GOLANG_RUNTIME_WAIT_REASONS_H_
#define GSPY_GOLANG_RUNTIME_WAIT_REASONS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "golang/runtime/wait_reason_table.h"

namespace gspy {

class WaitReasons {
 public:
  // The names for Go 1.`go_minor`. NOT_FOUND naming the known range when
  // the version has no table (too old, or newer than this gspy): a number
  // would be named wrongly, since the enum is renumbered between releases.
  static absl::StatusOr<WaitReasons> ForGoMinor(int go_minor);

  // Go's name for `reason` ("chan receive", "sync.Mutex.Lock"), or
  // "waitReason(N)" for a number the table does not have.
  std::string Name(uint8_t reason) const;

 private:
  explicit WaitReasons(const WaitReasonTable* table) : table_(table) {}
  const WaitReasonTable* table_;
};

}  // namespace gspy

#endif  // GSPY_GOLANG_RUNTIME_WAIT_REASONS_H_
