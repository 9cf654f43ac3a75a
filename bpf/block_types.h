/* Types shared by block_probes.bpf.c and the daemon's block tracker. Plain C,
 * fixed-width types only (see gspy_types.h). */
#ifndef GSPY_BPF_BLOCK_TYPES_H_
#define GSPY_BPF_BLOCK_TYPES_H_

#include "gspy_types.h"

/* Entries of the stack map holding park stacks, and the parked goroutines
 * tracked at once. Both maps are bounded; what does not fit is counted. */
#define GSPY_BLOCK_MAX_STACKS 8192
#define GSPY_BLOCK_MAX_PARKED 65536

/* Per-process configuration, written by the daemon for each pid it watches. */
struct gspy_block_target {
  gspy_u32 g_goid;
  gspy_u32 g_labels;
  gspy_u32 labels_layout; /* enum gspy_labels_layout */
  gspy_u32 pad;
};

/* Global switches, one array element. `recording` gates new parks: the daemon
 * turns it off and on to duty-cycle the probes when their cost exceeds its
 * budget; parks already recorded are completed either way. `weight_milli` is
 * 1000 / the fraction of time recording is on: each recorded wait stands for
 * that many thousandths of waits. */
struct gspy_block_config {
  gspy_u32 recording;
  gspy_u32 weight_milli;
};

struct gspy_parked_key {
  gspy_u32 tgid;
  gspy_u32 pad;
  gspy_u64 goid;
};

/* A goroutine between its park and running again. */
struct gspy_parked {
  gspy_u64 park_ns;      /* bpf_ktime_get_ns at runtime.gopark */
  gspy_u64 ready_ns;     /* at runtime.ready(gp), 0 if not seen */
  gspy_s32 stack_id;     /* in block_stacks; < 0: the stack was not stored */
  gspy_u32 weight_milli; /* gspy_block_config's at the park */
  gspy_u8 reason;        /* gopark's waitReason, numbered per Go version */
  gspy_u8 pad[7];
};

/* One completed wait, sent through the ring buffer when the goroutine runs
 * again (gopark returns from mcall).
 * Only the first label_count labels are sent. */
struct gspy_block_event {
  gspy_u32 tgid;
  gspy_s32 stack_id;
  gspy_u64 goid;
  gspy_u64 park_ns;
  gspy_u64 ready_ns; /* 0: woken without runtime.ready (e.g. by netpoll) */
  gspy_u64 run_ns;   /* when the goroutine runs again */
  gspy_u8 reason;
  gspy_u8 label_count;
  gspy_u8 flags; /* enum gspy_sample_flags */
  gspy_u8 pad;
  gspy_u32 weight_milli; /* the wait stands for weight_milli / 1000 waits */
  struct gspy_label labels[GSPY_MAX_LABELS];
};

/* The block probes' counters: X(name, metric, help), see gspy_types.h.
 * Waits lost (parked_full + ringbuf_full) are exported as one sum by the
 * block collector. */
#define GSPY_BLOCK_COUNTERS(X)                                         \
  X(parks, "gspy_block_parks_total",                                   \
    "runtime.gopark hits of processes a pull watched.")                \
  X(parked_full, "", "parks lost: parked map full")                    \
  X(stack_errors, "gspy_block_stack_errors_total",                     \
    "Parks whose stack could not be stored (stack map full or a hash " \
    "slot taken).")                                                    \
  X(readies, "", "ready hits of tracked goroutines")                   \
  X(events, "", "waits sent")                                          \
  X(ringbuf_full, "", "waits lost: ring buffer full")                  \
  X(skipped, "gspy_block_parks_skipped_total",                         \
    "Parks not recorded because the park budget duty-cycled the probes.")

#define GSPY_BLOCK_COUNTER(name) GSPY_BLOCK_COUNTER_##name
#define GSPY_BLOCK_COUNTER_ENUMERATOR(name, metric, help) \
  GSPY_BLOCK_COUNTER(name),
enum gspy_block_counter {
  GSPY_BLOCK_COUNTERS(GSPY_BLOCK_COUNTER_ENUMERATOR) GSPY_BLOCK_COUNTER_COUNT
};
#define GSPY_BLOCK_COUNTER_SLOTS 8
GSPY_STATIC_ASSERT(GSPY_BLOCK_COUNTER_COUNT <= GSPY_BLOCK_COUNTER_SLOTS,
                   "more block counters than map slots");

#endif /* GSPY_BPF_BLOCK_TYPES_H_ */
