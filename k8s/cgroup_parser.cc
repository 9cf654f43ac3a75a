#include "k8s/cgroup_parser.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace gspy {
namespace {

bool IsContainerId(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return false;
  }
  return true;
}

// One path component: "cri-containerd-<id>.scope", "crio-<id>.scope",
// "docker-<id>.scope", "crio-conmon-..." (not a container), or a bare id.
std::optional<ContainerRef> ContainerFromComponent(absl::string_view c) {
  struct Prefix {
    absl::string_view prefix;
    absl::string_view runtime;
  };
  static constexpr Prefix kPrefixes[] = {{"cri-containerd-", "containerd"},
                                         {"crio-", "cri-o"},
                                         {"docker-", "docker"}};
  absl::string_view id = c;
  absl::string_view runtime;
  absl::ConsumeSuffix(&id, ".scope");
  for (const Prefix& p : kPrefixes) {
    if (absl::ConsumePrefix(&id, p.prefix)) {
      runtime = p.runtime;
      break;
    }
  }
  if (!IsContainerId(id)) return std::nullopt;
  return ContainerRef{std::string(id), std::string(runtime), ""};
}

// "pod<uid>" (cgroupfs, dashes) or "kubepods-<qos>-pod<uid>.slice" (systemd,
// underscores for dashes).
std::string PodUidFromComponent(absl::string_view c) {
  absl::ConsumeSuffix(&c, ".slice");
  const size_t pos = c.rfind("pod");
  if (pos == absl::string_view::npos) return "";
  if (pos != 0 && c[pos - 1] != '-') return "";
  absl::string_view uid = c.substr(pos + 3);
  if (uid.size() != 36) return "";
  return absl::StrReplaceAll(uid, {{"_", "-"}});
}

std::optional<ContainerRef> ParsePath(absl::string_view path) {
  std::optional<ContainerRef> ref;
  std::string pod_uid;
  bool kubepods = false;
  for (absl::string_view c : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (absl::StartsWith(c, "kubepods")) kubepods = true;
    if (std::string uid = PodUidFromComponent(c); kubepods && !uid.empty()) {
      pod_uid = uid;
    }
    if (auto r = ContainerFromComponent(c)) ref = r;
  }
  if (!ref) return std::nullopt;
  ref->pod_uid = pod_uid;
  if (ref->runtime.empty() && absl::StrContains(path, "/docker/")) {
    ref->runtime = "docker";
  }
  return ref;
}

}  // namespace

std::optional<ContainerRef> ParseCgroupFile(absl::string_view text) {
  // v2's unified line ("0::/...") names the process's cgroup; on v1 every
  // controller line does. Take the first line that names a container.
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (f.size() != 3) continue;
    if (auto ref = ParsePath(f[2])) return ref;
  }
  return std::nullopt;
}

}  // namespace gspy
