#include "golang/runtime/wait_reasons.h"

#include "absl/strings/str_cat.h"

namespace gspy {

absl::StatusOr<WaitReasons> WaitReasons::ForGoMinor(int go_minor) {
  const std::vector<WaitReasonTable>& tables = GeneratedWaitReasonTables();
  for (const WaitReasonTable& t : tables) {
    if (t.go_minor == go_minor) return WaitReasons(&t);
  }
  return absl::NotFoundError(absl::StrCat(
      "no wait-reason names for Go 1.", go_minor, " (gspy knows Go 1.",
      tables.front().go_minor, " to 1.", tables.back().go_minor,
      "; regenerate with tools/gen_wait_reasons)"));
}

std::string WaitReasons::Name(uint8_t reason) const {
  if (reason < table_->names.size() && !table_->names[reason].empty()) {
    return table_->names[reason];
  }
  return absl::StrCat("waitReason(", reason, ")");
}

}  // namespace gspy
