#include "golang/binary/layout_table.h"

namespace gspy {

LabelsLayout LabelsLayoutForMinor(int minor) {
  return minor <= 23 ? LabelsLayout::kMap : LabelsLayout::kSlice;
}

RuntimeLayout LayoutFromRow(const LayoutTableRow& r) {
  RuntimeLayout l;
  l.source = LayoutSource::kTable;
  l.g_m = r.g_m;
  l.g_sched = r.g_sched;
  l.g_atomicstatus = r.g_atomicstatus;
  l.g_goid = r.g_goid;
  l.g_waitreason = r.g_waitreason;
  l.g_labels = r.g_labels;
  l.g_parentgoid = r.g_parentgoid;
  l.g_gopc = r.g_gopc;
  l.g_startpc = r.g_startpc;
  l.g_waitsince = r.g_waitsince;
  l.gobuf_sp = r.gobuf_sp;
  l.gobuf_pc = r.gobuf_pc;
  l.gobuf_bp = r.gobuf_bp;
  l.m_g0 = r.m_g0;
  l.m_curg = r.m_curg;
  l.m_procid = r.m_procid;
  l.labels_layout = LabelsLayoutForMinor(r.minor);
  return l;
}

std::optional<RuntimeLayout> BuiltinRuntimeLayout(int minor) {
  for (const LayoutTableRow& r : BuiltinLayoutTable()) {
    if (r.minor == minor) return LayoutFromRow(r);
  }
  return std::nullopt;
}

}  // namespace gspy
