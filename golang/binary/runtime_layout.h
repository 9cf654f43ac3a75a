// Offsets into the Go runtime's structs that the BPF programs read. The BPF
// side receives them in a target_config (bpf/gspy_types.h).
#ifndef GSPY_GOLANG_BINARY_RUNTIME_LAYOUT_H_
#define GSPY_GOLANG_BINARY_RUNTIME_LAYOUT_H_

#include <cstdint>
#include <string>

namespace gspy {

enum class LabelsLayout {
  kMap,  // Go <= 1.23: *labelMap is a map[string]string (hmap, 8-slot buckets)
  kSlice,  // Go >= 1.24: *labelMap points at []label{key, value string}
};

enum class LayoutSource { kDwarf, kTable };

struct RuntimeLayout {
  std::string go_version;  // "go1.26.8"
  LayoutSource source = LayoutSource::kTable;
  // runtime.g
  int32_t g_m = -1;
  int32_t g_sched = -1;  // gobuf: sp at +0, pc at +8, bp at gobuf_bp
  int32_t g_atomicstatus = -1;
  int32_t g_goid = -1;
  int32_t g_waitreason = -1;
  int32_t g_labels = -1;
  int32_t g_parentgoid = -1;  // -1 where the field does not exist
  int32_t g_gopc = -1;
  int32_t g_startpc = -1;
  // Set when the GC first sees the goroutine blocked (nanotime, i.e.
  // CLOCK_MONOTONIC); 0 until then. Goroutine dumps show "N minutes".
  int32_t g_waitsince = -1;
  // runtime.gobuf
  int32_t gobuf_sp = -1;
  int32_t gobuf_pc = -1;
  int32_t gobuf_bp = -1;
  // runtime.m
  int32_t m_g0 = -1;
  int32_t m_curg = -1;
  int32_t m_procid = -1;
  // amd64: g lives at fs_base + tls_g_offset (-8 for Go-built binaries).
  int32_t tls_g_offset = -8;
  LabelsLayout labels_layout = LabelsLayout::kSlice;
};

}  // namespace gspy

#endif  // GSPY_GOLANG_BINARY_RUNTIME_LAYOUT_H_
