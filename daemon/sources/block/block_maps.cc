#include "daemon/sources/block/block_maps.h"

#include <cmath>

namespace gspy {

int BlockMaps::AddTarget(uint32_t pid, const RuntimeLayout& layout) {
  gspy_block_target target{};
  target.g_goid = static_cast<uint32_t>(layout.g_goid);
  target.g_labels = static_cast<uint32_t>(layout.g_labels);
  target.labels_layout = layout.labels_layout == LabelsLayout::kSlice
                             ? GSPY_LABELS_SLICE
                             : GSPY_LABELS_MAP;
  return targets_->Put(pid, target);
}

void BlockMaps::RemoveTarget(uint32_t pid) {
  targets_->Erase(pid);
  parked_->EraseIf<gspy_parked_key>(
      [pid](const gspy_parked_key& k) { return k.tgid == pid; });
}

void BlockMaps::SetRecording(bool on, double fraction) {
  const uint32_t zero = 0;
  gspy_block_config config{};
  config.recording = on ? 1 : 0;
  config.weight_milli = static_cast<uint32_t>(std::lround(1000 / fraction));
  config_->Put(zero, config);
}

void BlockMaps::ClearParked() {
  parked_->EraseIf<gspy_parked_key>(
      [](const gspy_parked_key&) { return true; });
}

bool BlockMaps::Stack(int32_t id, std::vector<uint64_t>* frames) const {
  if (id < 0) return false;
  uint64_t buf[GSPY_MAX_USER_FRAMES] = {};
  const uint32_t key = static_cast<uint32_t>(id);
  if (stacks_->Lookup(&key, sizeof(key), buf, sizeof(buf)) != 0) return false;
  size_t depth = 0;
  while (depth < GSPY_MAX_USER_FRAMES && buf[depth] != 0) ++depth;
  frames->assign(buf, buf + depth);
  return true;
}

void BlockMaps::ClearStacks() {
  stacks_->EraseIf<uint32_t>([](uint32_t) { return true; });
}

}  // namespace gspy
