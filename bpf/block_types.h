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

enum gspy_block_counter {
  GSPY_BLOCK_COUNTER_PARKS = 0,        /* gopark hits of watched processes */
  GSPY_BLOCK_COUNTER_PARKED_FULL = 1,  /* parks lost: parked map full */
  GSPY_BLOCK_COUNTER_STACK_ERRORS = 2, /* park stacks not stored */
  GSPY_BLOCK_COUNTER_READIES = 3,      /* ready hits of tracked goroutines */
  GSPY_BLOCK_COUNTER_EVENTS = 4,       /* waits sent */
  GSPY_BLOCK_COUNTER_RINGBUF_FULL = 5, /* waits lost: ring buffer full */
  GSPY_BLOCK_COUNTER_SKIPPED = 6,      /* parks while recording was off */
  GSPY_BLOCK_COUNTER_MAX = 8,
};

#endif /* GSPY_BPF_BLOCK_TYPES_H_ */
