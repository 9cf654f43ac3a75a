// GoroutineDump -> gspy.v1.ProcessGoroutines: symbolizes the stacks and the
// creators, applies the filter. Shared by gspyd's GetGoroutines and the
// CLI's core-file dumps, so both print the same.
#ifndef GSPY_GOLANG_GOROUTINES_DUMP_PROTO_H_
#define GSPY_GOLANG_GOROUTINES_DUMP_PROTO_H_

#include <cstdint>
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

// `filter` may be null (keep all). Frame pcs are runtime addresses
// (link-time + load_bias).
void DumpToProto(const GoroutineDump& dump, const GoBinary& binary,
                 uint64_t load_bias, const SampleFilter* filter,
                 gspy::v1::ProcessGoroutines* out);

// A pprof goroutine profile (goroutine/count, period 1) of `processes`, one
// sample per distinct stack and label set (and pid, when there are several
// processes), gzip-compressed. Running goroutines, whose stack is not read,
// have the single frame "[running]".
std::string GoroutinesPprof(
    const std::vector<const gspy::v1::ProcessGoroutines*>& processes,
    int64_t time_nanos);

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_DUMP_PROTO_H_
