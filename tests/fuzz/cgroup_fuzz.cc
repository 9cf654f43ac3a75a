// libFuzzer target for ParseCgroupFile (a process's /proc/PID/cgroup, which
// the process itself can influence by moving between cgroups it owns).
// Checks what the parser promises: a 64-hex-digit id, a 36-char pod UID.
// Seeds: corpus/cgroup/ (v1 and v2, systemd and cgroupfs drivers,
// containerd, CRI-O and Docker).
#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "k8s/cgroup_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const std::optional<gspy::ContainerRef> ref = gspy::ParseCgroupFile(text);
  if (!ref.has_value()) return 0;
  if (ref->container_id.size() != 64) __builtin_trap();
  if (!ref->pod_uid.empty() && ref->pod_uid.size() != 36) __builtin_trap();
  if (text.find(ref->container_id) == absl::string_view::npos) {
    __builtin_trap();
  }
  return 0;
}
