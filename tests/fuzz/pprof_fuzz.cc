// libFuzzer target for the pprof decoder (DecodeProfile: gzip or not, then
// validation) and the merge the CLI's cluster-wide pulls do (MergeProfiles
// of the decoded profile with itself). What merge returns must decode
// again: it is written out and read back by pprof. Seeds: corpus/pprof/
// (real runtime/pprof CPU profiles, gzipped, and one of gspy's).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "profile/pprof/profile_builder.h"
#include "profile/pprof/profile_merge.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The bound the CLI's downloads get too; small here to keep runs fast.
  (void)gspy::MaybeGunzip(bytes, size_t{16} << 20);
  absl::StatusOr<perftools::profiles::Profile> p = gspy::DecodeProfile(bytes);
  if (!p.ok()) return 0;
  absl::StatusOr<perftools::profiles::Profile> merged =
      gspy::MergeProfiles({*p, *p});
  if (!merged.ok()) return 0;
  if (merged->sample_size() != 2 * p->sample_size()) __builtin_trap();
  const std::string out = merged->SerializeAsString();
  if (!gspy::DecodeProfile(out).ok()) __builtin_trap();
  if (!gspy::DecodeProfile(gspy::GzipCompress(out)).ok()) __builtin_trap();
  return 0;
}
