/* Types shared by the BPF programs and the daemon. Plain C, fixed-width
 * types only, so both clang -target bpf and the C++ compiler lay them out the
 * same way. */
#ifndef GSPY_BPF_GSPY_TYPES_H_
#define GSPY_BPF_GSPY_TYPES_H_

#ifdef __cplusplus
#include <cstdint>
typedef uint8_t gspy_u8;
typedef uint16_t gspy_u16;
typedef uint32_t gspy_u32;
typedef int32_t gspy_s32;
typedef uint64_t gspy_u64;
#else
typedef __u8 gspy_u8;
typedef __u16 gspy_u16;
typedef __u32 gspy_u32;
typedef __s32 gspy_s32;
typedef __u64 gspy_u64;
#endif

/* Limits. A label longer than its buffer is truncated and the sample flagged;
 * more labels than GSPY_MAX_LABELS are dropped and the sample flagged. */
#define GSPY_MAX_USER_FRAMES 127
#define GSPY_MAX_KERNEL_FRAMES 64
#define GSPY_MAX_LABELS 8
#define GSPY_LABEL_KEY_LEN 32
#define GSPY_LABEL_VALUE_LEN 64
/* Buckets of a Go <= 1.23 label map that are read (8 slots each). */
#define GSPY_MAX_LABEL_MAP_BUCKETS 4

enum gspy_labels_layout {
  GSPY_LABELS_MAP = 0,   /* Go <= 1.23: map[string]string */
  GSPY_LABELS_SLICE = 1, /* Go >= 1.24: []label{key, value string} */
};

/* Per-process configuration, written by the daemon for each pid it samples. */
struct gspy_target_config {
  gspy_s32 tls_g_offset; /* g is at fs_base + tls_g_offset (amd64) */
  gspy_u32 g_m;
  gspy_u32 g_goid;
  gspy_u32 g_labels;
  gspy_u32 m_curg;
  gspy_u32 labels_layout; /* enum gspy_labels_layout */
  gspy_u32 want_kernel_stack;
  gspy_u32 pad;
};

enum gspy_sample_flags {
  GSPY_SAMPLE_NO_GOROUTINE = 1 << 0, /* no user goroutine on the thread */
  GSPY_SAMPLE_LABELS_TRUNCATED = 1 << 1,
  GSPY_SAMPLE_LABELS_UNREADABLE = 1 << 2,
  GSPY_SAMPLE_IN_KERNEL = 1 << 3,
};

struct gspy_label {
  char key[GSPY_LABEL_KEY_LEN];
  char value[GSPY_LABEL_VALUE_LEN];
  gspy_u8 key_len;
  gspy_u8 value_len;
  gspy_u8 pad[6];
};

/* One CPU sample as sent through the ring buffer. Only the first
 * user_depth + kernel_depth entries of frames are sent: user frames first
 * (leaf first), then kernel frames (leaf first). */
struct gspy_cpu_sample {
  gspy_u32 pid;
  gspy_u32 tid;
  gspy_u64 time_ns;
  gspy_u64 goid;
  /* The word at the user stack pointer: the return address when the leaf
   * function has not pushed a frame yet (the frame-pointer walk skips the
   * leaf's caller then; the daemon recovers it with the pcsp table). */
  gspy_u64 user_sp_word;
  gspy_u32 cpu;
  gspy_u16 user_depth;
  gspy_u16 kernel_depth;
  gspy_u8 label_count;
  gspy_u8 flags;
  gspy_u8 pad[2];
  /* The cpu-clock period this sample stands for, in ns, as the daemon set
   * it (it lowers the rate under load): a profile weighs each sample by it. */
  gspy_u32 period_ns;
  struct gspy_label labels[GSPY_MAX_LABELS];
  gspy_u64 frames[GSPY_MAX_USER_FRAMES + GSPY_MAX_KERNEL_FRAMES];
};

/* Counter tables. Each program lists its per-CPU counters once, as
 * X(name, metric, help): the BPF enum (the counter's index in its map), the
 * daemon's counters struct (a uint64_t `name`), its reader, and the
 * Prometheus metric the daemon exports it as (metric "": not exported on its
 * own) all come from the table. */
#ifdef __cplusplus
#define GSPY_STATIC_ASSERT static_assert
#else
#define GSPY_STATIC_ASSERT _Static_assert
#endif

/* The CPU sampler's counters. */
#define GSPY_CPU_COUNTERS(X)                                            \
  X(samples, "gspy_cpu_samples_total",                                  \
    "CPU samples the BPF sampler sent to gspyd.")                       \
  X(ringbuf_full, "gspy_cpu_samples_lost_total",                        \
    "CPU samples lost because the ring buffer was full.")               \
  X(no_goroutine, "gspy_cpu_samples_without_goroutine_total",           \
    "CPU samples of a watched process in which no goroutine was found " \
    "(e.g. the scheduler or cgo).")                                     \
  X(labels_truncated, "gspy_cpu_samples_labels_truncated_total",        \
    "CPU samples whose pprof labels did not all fit.")                  \
  X(stack_errors, "gspy_cpu_stack_errors_total",                        \
    "CPU samples whose user stack could not be read.")

#define GSPY_CPU_COUNTER(name) GSPY_CPU_COUNTER_##name
#define GSPY_CPU_COUNTER_ENUMERATOR(name, metric, help) GSPY_CPU_COUNTER(name),
enum gspy_cpu_counter {
  GSPY_CPU_COUNTERS(GSPY_CPU_COUNTER_ENUMERATOR) GSPY_CPU_COUNTER_COUNT
};
/* Entries of the counters map: room to add counters without a new layout. */
#define GSPY_CPU_COUNTER_SLOTS 8
GSPY_STATIC_ASSERT(GSPY_CPU_COUNTER_COUNT <= GSPY_CPU_COUNTER_SLOTS,
                   "more CPU counters than map slots");

#endif /* GSPY_BPF_GSPY_TYPES_H_ */
