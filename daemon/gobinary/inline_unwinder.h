// Expands one pc into Go's logical frames: the inlined calls recorded in the
// function's inline tree (FUNCDATA_InlTree, indexed by PCDATA_InlTreeIndex),
// innermost first, then the physical function. Mirrors the runtime's
// inlineUnwinder (runtime/symtabinl.go).
#ifndef GSPY_DAEMON_GOBINARY_INLINE_UNWINDER_H_
#define GSPY_DAEMON_GOBINARY_INLINE_UNWINDER_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "daemon/gobinary/go_binary.h"
#include "daemon/gobinary/pclntab.h"

namespace gspy::gobinary_internal {

// `gofunc` is the bytes from moduledata.gofunc to the end of its segment
// (empty when unknown: then no inline expansion happens).
void AppendFrames(const Pclntab& t, std::string_view gofunc, const RawFunc& f,
                  uint64_t pc, std::vector<Frame>* out);

}  // namespace gspy::gobinary_internal

#endif  // GSPY_DAEMON_GOBINARY_INLINE_UNWINDER_H_
