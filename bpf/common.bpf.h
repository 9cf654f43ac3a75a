/* Helpers every gspy BPF program shares. Include after vmlinux.h and the
 * libbpf headers (it uses their types and bpf_map_lookup_elem). */
#ifndef GSPY_BPF_COMMON_BPF_H_
#define GSPY_BPF_COMMON_BPF_H_

/* Declares `name`, a BPF_MAP_TYPE_PERCPU_ARRAY of `entries` __u64 counters
 * that the daemon sums over CPUs. */
#define GSPY_COUNTERS_MAP(name, entries)     \
  struct {                                   \
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
    __uint(max_entries, entries);            \
    __type(key, __u32);                      \
    __type(value, __u64);                    \
  } name SEC(".maps")

/* Adds one to element `which` of a BPF_MAP_TYPE_PERCPU_ARRAY of __u64. The
 * map is per CPU, so no atomics are needed. */
static __always_inline void gspy_count(void *percpu_counters, __u32 which) {
  __u64 *c = bpf_map_lookup_elem(percpu_counters, &which);
  if (c) *c += 1;
}

/* Go's register ABI (ABIInternal, Go >= 1.17) at a function's entry: the
 * current goroutine (g) has its own register, integer arguments go in order
 * through AX, BX, CX, ... on amd64 and R0, R1, R2, ... on arm64. Only the
 * first three arguments are named: no probe needs more. */
#if defined(__TARGET_ARCH_x86)
#define GO_CURRENT_G(ctx) ((ctx)->r14)
#define GO_ARG0(ctx) ((ctx)->ax)
#define GO_ARG1(ctx) ((ctx)->bx)
#define GO_ARG2(ctx) ((ctx)->cx)
#elif defined(__TARGET_ARCH_arm64)
#define GO_CURRENT_G(ctx) ((ctx)->regs[28])
#define GO_ARG0(ctx) ((ctx)->regs[0])
#define GO_ARG1(ctx) ((ctx)->regs[1])
#define GO_ARG2(ctx) ((ctx)->regs[2])
#else
#error "gspy's BPF programs support amd64 and arm64"
#endif

#endif /* GSPY_BPF_COMMON_BPF_H_ */
