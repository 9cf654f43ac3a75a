// GoroutineDump -> gspy.v1.ProcessGoroutines: symbolizes the stacks and the
// creators, applies the filter. Shared by gspyd's GetGoroutines and the
// CLI's core-file dumps, so both print the same.
#ifndef GSPY_GOLANG_GOROUTINES_DUMP_PROTO_H_
#define GSPY_GOLANG_GOROUTINES_DUMP_PROTO_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "golang/binary/go_binary.h"
#include "golang/goroutines/goroutine_dump.h"
#include "profile/filter/sample_filter.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

// The API's status for the runtime's (g_struct.h's kG*, scan bit cleared);
// UNSPECIFIED for one gspy does not know.
gspy::v1::GoroutineStatus StatusToProto(uint32_t base_status);

// How Go's tracebacks name the status ("waiting", "runnable", ...; "???"
// for UNSPECIFIED): the CLI's text dumps and the filter's status: term.
std::string_view GoroutineStatusText(gspy::v1::GoroutineStatus status);

struct DumpProtoOptions {
  const SampleFilter* filter = nullptr;  // null: keep all
  // Each distinct label set once in ProcessGoroutines.label_sets, which
  // Goroutine.label_set points into, instead of in each goroutine.
  bool shared_label_sets = false;
  // Serialized bytes `out` may reach.
  int64_t max_bytes = std::numeric_limits<int64_t>::max();
};

// Frame pcs are runtime addresses (link-time + load_bias). False when the
// goroutines kept would take `out` past options.max_bytes: `out` then holds
// those that fit, and the caller should not send it as the whole dump.
bool DumpToProto(const GoroutineDump& dump, const GoBinary& binary,
                 uint64_t load_bias, const DumpProtoOptions& options,
                 gspy::v1::ProcessGoroutines* out);

// The labels of `g`, a goroutine of `process`: its own, or those of the
// label set it points to (none for an index out of range).
const google::protobuf::RepeatedPtrField<gspy::v1::Label>& GoroutineLabels(
    const gspy::v1::ProcessGoroutines& process, const gspy::v1::Goroutine& g);

// A pprof goroutine profile (goroutine/count, period 1) of `processes`, one
// sample per distinct stack and label set (and pid, when there are several
// processes), gzip-compressed. Running goroutines, whose stack is not read,
// have the single frame "[running]".
std::string GoroutinesPprof(
    const std::vector<const gspy::v1::ProcessGoroutines*>& processes,
    int64_t time_nanos);

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_DUMP_PROTO_H_
