/* Types shared by gc_probes.bpf.c and the daemon's GC tracker. Plain C,
 * fixed-width types only (see gspy_types.h). */
#ifndef GSPY_BPF_GC_TYPES_H_
#define GSPY_BPF_GC_TYPES_H_

#include "gspy_types.h"

/* Which probe fired. */
enum gspy_gc_event_kind {
  GSPY_GC_STW_STOP = 1,        /* runtime.stopTheWorldWithSema entry */
  GSPY_GC_STW_START_ENTRY = 2, /* runtime.startTheWorldWithSema entry */
  GSPY_GC_STW_START_RET = 3,   /* a RET of runtime.startTheWorldWithSema */
  GSPY_GC_CYCLE_START = 4,     /* runtime.gcStart entry */
  GSPY_GC_MARK_TERMINATION = 5 /* runtime.gcMarkTermination entry */
};

/* One probe hit, sent through the ring buffer. The argument registers are
 * sent raw (amd64 ABIInternal: AX, BX, CX; arm64: R0-R2); the daemon knows per
 * Go version what they mean (stopTheWorldWithSema's reason is AX's low byte
 * from Go 1.21; startTheWorldWithSema's `now` is AX from Go 1.22). */
struct gspy_gc_event {
  gspy_u32 tgid;
  gspy_u32 tid;
  gspy_u32 kind; /* enum gspy_gc_event_kind */
  gspy_u32 pad;
  gspy_u64 ktime_ns; /* bpf_ktime_get_ns: CLOCK_MONOTONIC, as Go's nanotime */
  gspy_u64 arg0;
  gspy_u64 arg1;
  gspy_u64 arg2;
};

/* The GC probes' counters: X(name, metric, help), see gspy_types.h. */
#define GSPY_GC_COUNTERS(X)                              \
  X(events, "gspy_gc_events_total",                      \
    "GC and stop-the-world probe events sent to gspyd.") \
  X(ringbuf_full, "gspy_gc_events_lost_total",           \
    "GC probe events lost because the ring buffer was full.")

#define GSPY_GC_COUNTER(name) GSPY_GC_COUNTER_##name
#define GSPY_GC_COUNTER_ENUMERATOR(name, metric, help) GSPY_GC_COUNTER(name),
enum gspy_gc_counter {
  GSPY_GC_COUNTERS(GSPY_GC_COUNTER_ENUMERATOR) GSPY_GC_COUNTER_COUNT
};
#define GSPY_GC_COUNTER_SLOTS 4
GSPY_STATIC_ASSERT(GSPY_GC_COUNTER_COUNT <= GSPY_GC_COUNTER_SLOTS,
                   "more GC counters than map slots");

#endif /* GSPY_BPF_GC_TYPES_H_ */
