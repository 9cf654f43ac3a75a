// ProfileBuilder: assembles a pprof profile (perftools.profiles.Profile,
// proto/pprof/profile.proto) with interned strings, deduplicated functions,
// locations and mappings, and writes it gzip-compressed as Go's runtime/pprof
// does.
#ifndef GSPY_PROFILE_PPROF_PROFILE_BUILDER_H_
#define GSPY_PROFILE_PPROF_PROFILE_BUILDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "golang/binary/go_binary.h"
#include "proto/pprof/profile.pb.h"

namespace gspy {

struct ValueType {
  std::string type;  // "samples", "cpu"
  std::string unit;  // "count", "nanoseconds"
};

// A Sample.label: either a string or a number (with optional unit).
struct SampleLabel {
  std::string key;
  std::string str;       // used when !is_num
  int64_t num = 0;       // used when is_num
  std::string num_unit;  // optional, with is_num
  bool is_num = false;
};

struct MappingInfo {
  uint64_t memory_start = 0;
  uint64_t memory_limit = 0;
  uint64_t file_offset = 0;
  std::string filename;
  std::string build_id;
  bool has_functions = true;
  bool has_filenames = true;
  bool has_line_numbers = true;
  bool has_inline_frames = true;
};

class ProfileBuilder {
 public:
  ProfileBuilder(std::vector<ValueType> sample_types, ValueType period_type,
                 int64_t period);

  void SetTime(absl::Time start, absl::Duration duration);
  void AddComment(std::string_view comment);
  void SetDefaultSampleType(std::string_view type);

  // Returns the id of a new mapping (ids start at 1).
  uint64_t AddMapping(const MappingInfo& mapping);

  // The location for `address` in `mapping_id` (0: none) with `frames`
  // innermost first (as GoBinary::Symbolize appends them). Deduplicated by
  // (mapping_id, address, return_address): the frames given the first time
  // win. A return address is symbolized at address - 1 (the call), an
  // interrupted pc (a stack's leaf) at address itself, and one address can
  // be both (a signal handler's frame holds the interrupted pc as a return
  // address), so they are two locations. An empty `frames` makes an
  // unsymbolized location (address only).
  uint64_t LocationId(uint64_t mapping_id, uint64_t address,
                      absl::Span<const Frame> frames,
                      bool return_address = false);

  // A location with a single synthetic function name and no address, e.g.
  // "[kernel] do_syscall_64" or "[unknown]". Deduplicated by name.
  uint64_t SyntheticLocationId(std::string_view function_name);

  // Adds a sample. `location_ids` leaf first. values.size() must equal the
  // number of sample types. Samples with identical locations and labels are
  // NOT merged here; callers aggregate first.
  // Invalid input (wrong number of values, a location id this builder did
  // not hand out, a label without a key) would make the whole profile
  // unreadable to pprof, so such a sample is dropped and counted instead;
  // returns false then.
  bool AddSample(absl::Span<const uint64_t> location_ids,
                 absl::Span<const int64_t> values,
                 absl::Span<const SampleLabel> labels);

  size_t sample_count() const;
  // Samples AddSample refused since construction.
  size_t dropped_sample_count() const { return dropped_samples_; }

  // The profile as a proto (for tests) and gzip-compressed bytes.
  const perftools::profiles::Profile& proto() const { return profile_; }
  std::string SerializeGzip() const;

 private:
  int64_t Intern(std::string_view s);
  uint64_t FunctionId(std::string_view name, std::string_view file,
                      int64_t start_line);

  perftools::profiles::Profile profile_;
  absl::flat_hash_map<std::string, int64_t> strings_;
  absl::flat_hash_map<std::string, uint64_t> functions_;  // name\0file\0start
  absl::flat_hash_map<std::tuple<uint64_t, uint64_t, bool>, uint64_t>
      locations_;
  absl::flat_hash_map<std::string, uint64_t> synthetic_locations_;
  size_t dropped_samples_ = 0;
};

// gzip helpers (zlib), shared by the builder and the CLI's decoder.
std::string GzipCompress(std::string_view data);
// Decompresses if `data` starts with the gzip magic, else returns it as is.
// Errors on corrupt gzip or an output larger than `max_bytes`.
absl::StatusOr<std::string> MaybeGunzip(std::string_view data,
                                        size_t max_bytes = size_t{1} << 30);

// Parses a pprof profile, gzip-compressed or not (as pprof's ParseData
// accepts both), and checks what pprof's decoder and CheckValid check:
// string_table[0] == "", every string index in range, nonzero unique ids,
// every id reference resolvable and one value per sample type. Consumers
// (the CLI's renderers) can then index without further checks.
absl::StatusOr<perftools::profiles::Profile> DecodeProfile(
    std::string_view bytes);

}  // namespace gspy

#endif  // GSPY_PROFILE_PPROF_PROFILE_BUILDER_H_
