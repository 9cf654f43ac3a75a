/* Reading a goroutine's pprof labels (g.labels) from BPF, shared by the CPU
 * sampler and the block probes. Include after vmlinux.h and the libbpf
 * headers. */
#ifndef GSPY_BPF_GO_LABELS_H_
#define GSPY_BPF_GO_LABELS_H_

#include "gspy_types.h"

static __always_inline __u64 read_user_u64(__u64 addr) {
  __u64 v = 0;
  if (bpf_probe_read_user(&v, sizeof(v), (void *)addr)) return 0;
  return v;
}

/* A Go string {ptr, len} copied into buf (not NUL-terminated). Returns the
 * bytes copied; sets *truncated when the string was longer than cap. */
static __always_inline __u8 read_go_string(char *buf, __u32 cap, __u64 ptr,
                                           __u64 len, bool *truncated) {
  __u32 n = len;
  if (len > cap) {
    n = cap;
    *truncated = true;
  }
  if (n == 0 || !ptr) return 0;
  /* Keep the verifier's bounds: n is in [1, cap]. */
  n &= 0x7f;
  if (n > cap) n = cap;
  if (bpf_probe_read_user(buf, n, (void *)ptr)) return 0;
  return n;
}

struct go_label_strings {
  __u64 key_ptr, key_len, value_ptr, value_len;
};

/* Where the labels go: an array of GSPY_MAX_LABELS, its fill count and the
 * record's flags (enum gspy_sample_flags). */
struct label_sink {
  struct gspy_label *labels;
  __u8 *count;
  __u8 *flags;
};

static __always_inline void store_label(const struct label_sink *out,
                                        const struct go_label_strings *kv,
                                        bool *truncated) {
  __u32 i = *out->count;
  if (i >= GSPY_MAX_LABELS) {
    *truncated = true;
    return;
  }
  struct gspy_label *l = &out->labels[i];
  l->key_len = read_go_string(l->key, GSPY_LABEL_KEY_LEN, kv->key_ptr,
                              kv->key_len, truncated);
  l->value_len = read_go_string(l->value, GSPY_LABEL_VALUE_LEN, kv->value_ptr,
                                kv->value_len, truncated);
  *out->count = i + 1;
}

/* Go >= 1.24: g.labels -> labelMap{LabelSet{list []label}}, label =
 * {key, value string}, sorted by key. */
static __always_inline void read_labels_slice(const struct label_sink *out,
                                              __u64 label_map,
                                              bool *truncated) {
  __u64 list = read_user_u64(label_map);
  __u64 len = read_user_u64(label_map + 8);
  if (!list || !len) return;
  if (len > GSPY_MAX_LABELS) *truncated = true;
  for (int i = 0; i < GSPY_MAX_LABELS; i++) {
    if (i >= len) break;
    struct go_label_strings kv;
    if (bpf_probe_read_user(&kv, sizeof(kv), (void *)(list + i * 32))) {
      *out->flags |= GSPY_SAMPLE_LABELS_UNREADABLE;
      return;
    }
    store_label(out, &kv, truncated);
  }
}

/* Go <= 1.23: g.labels -> *labelMap -> map[string]string (hmap). Buckets of
 * 8 slots: tophash[8], keys[8] string, values[8] string, overflow pointer.
 * A slot is live when tophash >= 5 (minTopHash). Overflow buckets are not
 * followed; such maps hold more labels than we keep anyway. */
#define GO_MAP_BUCKET_SIZE (8 + 8 * 16 + 8 * 16 + 8)
static __always_inline void read_labels_map(const struct label_sink *out,
                                            __u64 label_map, bool *truncated) {
  __u64 hmap = read_user_u64(label_map);
  if (!hmap) return;
  struct {
    __u64 count;
    __u8 flags, B;
    __u16 noverflow;
    __u32 hash0;
    __u64 buckets;
  } h;
  if (bpf_probe_read_user(&h, sizeof(h), (void *)hmap)) {
    *out->flags |= GSPY_SAMPLE_LABELS_UNREADABLE;
    return;
  }
  if (!h.count || !h.buckets) return;
  __u32 nbuckets = 1u << (h.B & 7);
  if (nbuckets > GSPY_MAX_LABEL_MAP_BUCKETS) {
    nbuckets = GSPY_MAX_LABEL_MAP_BUCKETS;
    *truncated = true;
  }
  for (__u32 b = 0; b < GSPY_MAX_LABEL_MAP_BUCKETS; b++) {
    if (b >= nbuckets) break;
    __u64 bucket = h.buckets + b * GO_MAP_BUCKET_SIZE;
    __u8 tophash[8];
    if (bpf_probe_read_user(tophash, sizeof(tophash), (void *)bucket)) break;
    for (int slot = 0; slot < 8; slot++) {
      if (tophash[slot] < 5) continue;
      struct go_label_strings kv;
      __u64 key = bucket + 8 + slot * 16;
      __u64 value = bucket + 8 + 8 * 16 + slot * 16;
      if (bpf_probe_read_user(&kv.key_ptr, 16, (void *)key) ||
          bpf_probe_read_user(&kv.value_ptr, 16, (void *)value)) {
        *out->flags |= GSPY_SAMPLE_LABELS_UNREADABLE;
        return;
      }
      store_label(out, &kv, truncated);
    }
  }
}

/* Reads the labels of the goroutine whose g.labels word is label_map (may be
 * 0). Returns true when some were dropped or cut. */
static __always_inline bool read_go_labels(const struct label_sink *out,
                                           __u64 label_map, __u32 layout) {
  bool truncated = false;
  if (!label_map) return false;
  if (layout == GSPY_LABELS_SLICE)
    read_labels_slice(out, label_map, &truncated);
  else
    read_labels_map(out, label_map, &truncated);
  if (truncated) *out->flags |= GSPY_SAMPLE_LABELS_TRUNCATED;
  return truncated;
}

#endif /* GSPY_BPF_GO_LABELS_H_ */
