// SPDX-License-Identifier: GPL-2.0
/* Block probes: where goroutines wait and for how long. Plain uprobes (never
 * uretprobes: they crash Go), placed by the daemon with a disassembler:
 *   in runtime.gopark(unlockf, lock, reason, ...), just after its prologue,
 *     on the parking goroutine: remember the park time, wait reason and
 *     stack, keyed by goid;
 *   at runtime.ready(gp, ...): the waker made gp runnable: note the time;
 *   in runtime.gopark, right after its call to mcall, which returns only
 *     when the goroutine runs again: send the completed wait.
 * Goroutines woken without runtime.ready (netpoll, for instance) end their
 * wait when they run again. gopark is not probed at its entry: when its
 * prologue grows the stack, morestack restarts it (a second hit), and may
 * preempt the goroutine first, which then runs again without having parked.
 * After the prologue the frame pointer is also linked, so the stack walk
 * keeps gopark's caller. The resume probe fires once per park, on the
 * goroutine itself: unlike runtime.execute, not for every schedule.
 * A uprobe lives on the binary's inode: only tgids in block_targets count. */
/* clang-format off */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
/* clang-format on */

#include "block_types.h"
#include "common.bpf.h"
#include "go_labels.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32); /* tgid */
  __type(value, struct gspy_block_target);
} block_targets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct gspy_block_config);
} block_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, GSPY_BLOCK_MAX_PARKED);
  __type(key, struct gspy_parked_key);
  __type(value, struct gspy_parked);
} parked SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, GSPY_BLOCK_MAX_STACKS);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, GSPY_MAX_USER_FRAMES * sizeof(__u64));
} block_stacks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 << 20);
} block_events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct gspy_block_event);
} block_scratch SEC(".maps");

GSPY_COUNTERS_MAP(block_counters, GSPY_BLOCK_COUNTER_SLOTS);

SEC("uprobe")
int block_gopark(struct pt_regs *ctx) {
  const __u64 now = bpf_ktime_get_ns();
  const __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  const struct gspy_block_target *cfg =
      bpf_map_lookup_elem(&block_targets, &tgid);
  if (!cfg) return 0;
  gspy_count(&block_counters, GSPY_BLOCK_COUNTER(parks));
  __u32 zero = 0;
  const struct gspy_block_config *conf =
      bpf_map_lookup_elem(&block_config, &zero);
  if (!conf || !conf->recording) {
    gspy_count(&block_counters, GSPY_BLOCK_COUNTER(skipped));
    return 0;
  }
  const __u64 g = GO_CURRENT_G(ctx);
  struct gspy_parked_key key = {.tgid = tgid, .goid = 0};
  key.goid = read_user_u64(g + cfg->g_goid);
  if (!key.goid) return 0;
  struct gspy_parked p = {};
  p.park_ns = now;
  p.reason = (__u8)GO_ARG2(ctx);
  p.weight_milli = conf->weight_milli ? conf->weight_milli : 1000;
  p.stack_id = bpf_get_stackid(ctx, &block_stacks, BPF_F_USER_STACK);
  if (p.stack_id < 0)
    gspy_count(&block_counters, GSPY_BLOCK_COUNTER(stack_errors));
  /* A goroutine parks once at a time: an older entry can only be left from a
   * wait whose end was missed, and the new park replaces it. */
  if (bpf_map_update_elem(&parked, &key, &p, BPF_ANY))
    gspy_count(&block_counters, GSPY_BLOCK_COUNTER(parked_full));
  return 0;
}

SEC("uprobe")
int block_ready(struct pt_regs *ctx) {
  const __u64 now = bpf_ktime_get_ns();
  const __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  const struct gspy_block_target *cfg =
      bpf_map_lookup_elem(&block_targets, &tgid);
  if (!cfg) return 0;
  struct gspy_parked_key key = {.tgid = tgid, .goid = 0};
  key.goid = read_user_u64(GO_ARG0(ctx) + cfg->g_goid);
  struct gspy_parked *p = bpf_map_lookup_elem(&parked, &key);
  if (!p || p->ready_ns) return 0;
  p->ready_ns = now;
  gspy_count(&block_counters, GSPY_BLOCK_COUNTER(readies));
  return 0;
}

SEC("uprobe")
int block_resume(struct pt_regs *ctx) {
  const __u64 now = bpf_ktime_get_ns();
  const __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  const struct gspy_block_target *cfg =
      bpf_map_lookup_elem(&block_targets, &tgid);
  if (!cfg) return 0;
  const __u64 g = GO_CURRENT_G(ctx);
  struct gspy_parked_key key = {.tgid = tgid, .goid = 0};
  key.goid = read_user_u64(g + cfg->g_goid);
  struct gspy_parked *p = bpf_map_lookup_elem(&parked, &key);
  if (!p) return 0;

  __u32 zero = 0;
  struct gspy_block_event *e = bpf_map_lookup_elem(&block_scratch, &zero);
  if (!e) return 0;
  e->tgid = tgid;
  e->stack_id = p->stack_id;
  e->goid = key.goid;
  e->park_ns = p->park_ns;
  e->ready_ns = p->ready_ns;
  e->run_ns = now;
  e->reason = p->reason;
  e->weight_milli = p->weight_milli;
  e->label_count = 0;
  e->flags = 0;
  bpf_map_delete_elem(&parked, &key);

  /* The labels cannot change while the goroutine is parked: reading them now
   * is reading them at park time. */
  const struct label_sink sink = {e->labels, &e->label_count, &e->flags};
  read_go_labels(&sink, read_user_u64(g + cfg->g_labels), cfg->labels_layout);

  __u64 size = offsetof(struct gspy_block_event, labels) +
               (__u64)(e->label_count & 0xf) * sizeof(struct gspy_label);
  if (size > sizeof(*e)) size = sizeof(*e);
  /* No wakeup per event: the daemon drains the ring every 20 ms. A wakeup
   * per wait cost a lot at tens of thousands of waits a second. */
  if (bpf_ringbuf_output(&block_events, e, size, BPF_RB_NO_WAKEUP)) {
    gspy_count(&block_counters, GSPY_BLOCK_COUNTER(ringbuf_full));
    return 0;
  }
  gspy_count(&block_counters, GSPY_BLOCK_COUNTER(events));
  return 0;
}
