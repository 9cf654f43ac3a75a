// Built-in runtime struct layouts for binaries without DWARF, keyed by Go
// minor version. The rows in layout_table.cc are generated from real DWARF by
// tools/gen_layout_table; never edit them by hand.
#ifndef GSPY_GOLANG_BINARY_LAYOUT_TABLE_H_
#define GSPY_GOLANG_BINARY_LAYOUT_TABLE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "golang/binary/runtime_layout.h"

namespace gspy {

struct LayoutTableRow {
  int minor;                   // 26 for go1.26.x
  const char* generated_from;  // the toolchain that produced the row
  int32_t g_m, g_sched, g_atomicstatus, g_goid, g_waitreason, g_labels,
      g_parentgoid, g_gopc, g_startpc;
  int32_t gobuf_sp, gobuf_pc, gobuf_bp;
  int32_t m_g0, m_curg, m_procid;
  // Last, so adding it kept the older columns where they were.
  int32_t g_waitsince;
};

// All generated rows, sorted by minor version.
const std::vector<LayoutTableRow>& BuiltinLayoutTable();

// The layout for Go 1.minor, with source kTable; nullopt when not in the
// table. go_version is left empty for the caller to fill.
std::optional<RuntimeLayout> BuiltinRuntimeLayout(int minor);

// Labels representation by version: a map up to 1.23, a slice from 1.24.
LabelsLayout LabelsLayoutForMinor(int minor);

// Copies the offset fields of `row` into a RuntimeLayout.
RuntimeLayout LayoutFromRow(const LayoutTableRow& row);

}  // namespace gspy

#endif  // GSPY_GOLANG_BINARY_LAYOUT_TABLE_H_
