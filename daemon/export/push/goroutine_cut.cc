#include "daemon/export/push/goroutine_cut.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "golang/goroutines/dump_proto.h"
#include "golang/goroutines/goroutine_dump.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {

absl::StatusOr<std::string> GoroutineCut::Take(absl::Time now) {
  if (process_.binary == nullptr) {
    return absl::FailedPreconditionError("no binary");
  }
  DumpOptions options;
  options.known_allgs = have_allgs_ ? &allgs_ : nullptr;
  ProcessMemory memory(process_.pid);
  absl::StatusOr<GoroutineDump> dump =
      TakeGoroutineDump(*process_.binary, memory, process_.load_bias, options);
  if (!dump.ok()) {
    have_allgs_ = false;
    return dump.status();
  }
  allgs_ = dump->allgs;
  have_allgs_ = true;
  gspy::v1::ProcessGoroutines goroutines;
  goroutines.set_pid(process_.pid);
  DumpProtoOptions to_proto;
  to_proto.shared_label_sets = true;
  to_proto.max_bytes = max_bytes_;
  if (!DumpToProto(*dump, *process_.binary, process_.load_bias, to_proto,
                   &goroutines)) {
    return absl::ResourceExhaustedError(
        absl::StrCat(dump->goroutines.size(), " goroutines take more than ",
                     max_bytes_, " bytes"));
  }
  return GoroutinesPprof({&goroutines}, absl::ToUnixNanos(now));
}

}  // namespace gspy
