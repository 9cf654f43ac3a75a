// SPDX-License-Identifier: GPL-2.0
/* GC and stop-the-world probes: plain uprobes (never uretprobes: they crash
 * Go) on runtime.stopTheWorldWithSema, runtime.startTheWorldWithSema (entry
 * and each RET instruction, found by the daemon with a disassembler),
 * runtime.gcStart and runtime.gcMarkTermination. A uprobe lives on the
 * binary's inode, so it fires for every process of that binary: only the
 * tgids the daemon put in `gc_targets` are reported. */
/* clang-format off */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
/* clang-format on */

#include "common.bpf.h"
#include "gc_types.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32); /* tgid */
  __type(value, __u8);
} gc_targets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} gc_events SEC(".maps");

GSPY_COUNTERS_MAP(gc_counters, GSPY_GC_COUNTER_SLOTS);

static __always_inline int emit(struct pt_regs *ctx, __u32 kind) {
  const __u64 ktime = bpf_ktime_get_ns();
  const __u64 pid_tgid = bpf_get_current_pid_tgid();
  const __u32 tgid = pid_tgid >> 32;
  if (!bpf_map_lookup_elem(&gc_targets, &tgid)) return 0;
  struct gspy_gc_event *e = bpf_ringbuf_reserve(&gc_events, sizeof(*e), 0);
  if (!e) {
    gspy_count(&gc_counters, GSPY_GC_COUNTER(ringbuf_full));
    return 0;
  }
  e->tgid = tgid;
  e->tid = (__u32)pid_tgid;
  e->kind = kind;
  e->pad = 0;
  e->ktime_ns = ktime;
  e->arg0 = GO_ARG0(ctx);
  e->arg1 = GO_ARG1(ctx);
  e->arg2 = GO_ARG2(ctx);
  /* No wakeup per event: the daemon drains the ring every 20 ms. */
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  gspy_count(&gc_counters, GSPY_GC_COUNTER(events));
  return 0;
}

SEC("uprobe")
int gc_stw_stop(struct pt_regs *ctx) { return emit(ctx, GSPY_GC_STW_STOP); }

SEC("uprobe")
int gc_stw_start_entry(struct pt_regs *ctx) {
  return emit(ctx, GSPY_GC_STW_START_ENTRY);
}

SEC("uprobe")
int gc_stw_start_ret(struct pt_regs *ctx) {
  return emit(ctx, GSPY_GC_STW_START_RET);
}

SEC("uprobe")
int gc_cycle_start(struct pt_regs *ctx) {
  return emit(ctx, GSPY_GC_CYCLE_START);
}

SEC("uprobe")
int gc_mark_termination(struct pt_regs *ctx) {
  return emit(ctx, GSPY_GC_MARK_TERMINATION);
}
