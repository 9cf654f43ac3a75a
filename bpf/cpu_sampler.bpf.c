// SPDX-License-Identifier: GPL-2.0
/* CPU sampler: runs on cpu-clock perf events on every CPU. For threads of the
 * Go processes the daemon selected, it records the user stack (frame-pointer
 * walk), optionally the kernel stack, the goroutine running on the thread
 * (g from TLS, then m.curg) with its goid and pprof labels, and sends the
 * sample through a ring buffer. */
/* vmlinux.h defines the kernel types the libbpf headers use: it comes first. */
/* clang-format off */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
/* clang-format on */

#include "common.bpf.h"
#include "go_labels.h"
#include "gspy_types.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32); /* tgid */
  __type(value, struct gspy_target_config);
} targets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 8 << 20);
} samples SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct gspy_cpu_sample);
} scratch SEC(".maps");

GSPY_COUNTERS_MAP(counters, GSPY_CPU_COUNTER_SLOTS);

/* The perf events' current period in ns, written by the daemon whenever it
 * changes the sampling rate (back-off), copied into every sample. */
volatile __u32 period_ns = 0;

SEC("perf_event")
int sample_cpu(struct bpf_perf_event_data *ctx) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 pid = pid_tgid >> 32;
  if (!pid) return 0;
  struct gspy_target_config *cfg = bpf_map_lookup_elem(&targets, &pid);
  if (!cfg) return 0;

  __u32 zero = 0;
  struct gspy_cpu_sample *s = bpf_map_lookup_elem(&scratch, &zero);
  if (!s) return 0;
  s->pid = pid;
  s->tid = (__u32)pid_tgid;
  s->time_ns = bpf_ktime_get_ns();
  s->cpu = bpf_get_smp_processor_id();
  s->period_ns = period_ns;
  s->goid = 0;
  s->flags = 0;
  s->label_count = 0;
  s->user_sp_word = 0;
  s->user_depth = 0;
  s->kernel_depth = 0;

  struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
  /* The user registers, also when the sample hit the kernel. */
  struct pt_regs *uregs = (struct pt_regs *)bpf_task_pt_regs(task);
  __u64 user_sp = BPF_CORE_READ(uregs, sp);
  /* Kernel text lives in the upper half of the address space. */
  if ((long)PT_REGS_IP(&ctx->regs) < 0) s->flags |= GSPY_SAMPLE_IN_KERNEL;
  s->user_sp_word = read_user_u64(user_sp);

  /* The goroutine: g from TLS, then m.curg, which is the user goroutine also
   * while the thread runs on g0 for it (what the runtime's own SIGPROF
   * handler charges). */
  __u64 fsbase = BPF_CORE_READ(task, thread.fsbase);
  __u64 g = fsbase ? read_user_u64(fsbase + cfg->tls_g_offset) : 0;
  __u64 m = g ? read_user_u64(g + cfg->g_m) : 0;
  __u64 curg = m ? read_user_u64(m + cfg->m_curg) : 0;
  if (curg) {
    s->goid = read_user_u64(curg + cfg->g_goid);
    const struct label_sink sink = {s->labels, &s->label_count, &s->flags};
    if (read_go_labels(&sink, read_user_u64(curg + cfg->g_labels),
                       cfg->labels_layout))
      gspy_count(&counters, GSPY_CPU_COUNTER(labels_truncated));
  } else {
    s->flags |= GSPY_SAMPLE_NO_GOROUTINE;
    gspy_count(&counters, GSPY_CPU_COUNTER(no_goroutine));
  }

  long n =
      bpf_get_stack(ctx, s->frames, GSPY_MAX_USER_FRAMES * 8, BPF_F_USER_STACK);
  if (n < 0) {
    gspy_count(&counters, GSPY_CPU_COUNTER(stack_errors));
    n = 0;
  }
  __u32 user_depth = (__u32)n / 8;
  if (user_depth > GSPY_MAX_USER_FRAMES) user_depth = GSPY_MAX_USER_FRAMES;
  s->user_depth = user_depth;

  if (cfg->want_kernel_stack && (s->flags & GSPY_SAMPLE_IN_KERNEL)) {
    long k = bpf_get_stack(ctx, &s->frames[user_depth & 0x7f],
                           GSPY_MAX_KERNEL_FRAMES * 8, 0);
    if (k > 0) {
      __u32 kd = (__u32)k / 8;
      s->kernel_depth =
          kd > GSPY_MAX_KERNEL_FRAMES ? GSPY_MAX_KERNEL_FRAMES : kd;
    }
  }

  __u64 size = offsetof(struct gspy_cpu_sample, frames) +
               (__u64)(s->user_depth + s->kernel_depth) * 8;
  if (size > sizeof(*s)) size = sizeof(*s);
  /* No wakeup per sample: the daemon drains the ring every 50 ms. */
  if (bpf_ringbuf_output(&samples, s, size, BPF_RB_NO_WAKEUP)) {
    gspy_count(&counters, GSPY_CPU_COUNTER(ringbuf_full));
    return 0;
  }
  gspy_count(&counters, GSPY_CPU_COUNTER(samples));
  return 0;
}
