#include "daemon/export/push/push_profile.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace gspy {

size_t PushProfile::bytes() const {
  size_t n = pprof.size() + id.size() + sizeof(PushProfile);
  for (const auto& [k, v] : labels) n += k.size() + v.size();
  return n;
}

std::string ServiceNameOf(const GoProcess& process) {
  if (process.binary != nullptr) {
    const std::string& module = process.binary->build_info().module_path;
    if (!module.empty() && module != "command-line-arguments") return module;
  }
  const size_t slash = process.exe_path.rfind('/');
  std::string base = slash == std::string::npos
                         ? process.exe_path
                         : process.exe_path.substr(slash + 1);
  // /proc/PID/exe of a deleted binary ends in " (deleted)".
  constexpr absl::string_view kDeleted = " (deleted)";
  if (absl::EndsWith(base, kDeleted)) {
    base.resize(base.size() - kDeleted.size());
  }
  if (base.empty()) base = process.comm;
  return base.empty() ? "unknown_service" : base;
}

namespace {

std::string SafeLabelName(absl::string_view name) {
  std::string out(name);
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) out[i] = '_';
  }
  if (out.empty()) out = "_";
  return out;
}

}  // namespace

LabelList PushLabels(const GoProcess& process, const ProcessMetadata& metadata,
                     const PushLabelOptions& options) {
  // Later assignments win: static labels, then where the process runs, then
  // what identifies it.
  absl::flat_hash_map<std::string, std::string> by_name;
  for (const auto& [k, v] : options.static_labels) by_name[SafeLabelName(k)] = v;
  for (const auto& [k, v] : metadata.labels) by_name[SafeLabelName(k)] = v;
  by_name["pid"] = absl::StrCat(process.pid);
  by_name["exe"] = process.exe_path;
  by_name["service_name"] = options.service_name.empty()
                                ? ServiceNameOf(process)
                                : options.service_name;
  by_name["__name__"] = options.profile_name;
  LabelList out(by_name.begin(), by_name.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::string NewProfileId() {
  static absl::Mutex mu(absl::kConstInit);
  static std::mt19937_64* rng = nullptr;
  uint64_t hi, lo;
  {
    absl::MutexLock lock(&mu);
    if (rng == nullptr) rng = new std::mt19937_64(std::random_device{}());
    hi = (*rng)();
    lo = (*rng)();
  }
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                  // version 4
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);      // variant 10
  char buf[40];
  snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx",
           static_cast<unsigned>(hi >> 32),
           static_cast<unsigned>((hi >> 16) & 0xFFFF),
           static_cast<unsigned>(hi & 0xFFFF),
           static_cast<unsigned>(lo >> 48),
           static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

}  // namespace gspy
