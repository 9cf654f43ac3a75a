// Redactor: what gspyd removes from everything it lets out, as its operator
// configured it (flags a client cannot override). One component applied at
// every exit: pulled and pushed pprof profiles, goroutine dumps (and so the
// leak reports made from them), push series labels, /metrics labels and the
// target list's metadata.
//
// - Frames whose function or file matches a pattern become "[redacted]", with
//   file and line cleared. Stacks keep their shape: a frame is renamed, never
//   removed or merged, so every sample keeps its locations and its values.
// - Values of some label keys become a keyed hash ("redacted:" + 16 hex
//   digits of HMAC-SHA256), equal for equal values so a breakdown by the
//   label still works; other label keys are dropped.
// - Goroutine ids (goid, parent goid, the "goid" sample label) become a keyed
//   hash: stable for the key's lifetime, so a dump and a CPU profile still
//   correlate, and irreversible without the key.
//
// Decisions about a function are cached, so that a profile costs one pattern
// match per distinct function (pprof's function table) and a dump one per
// distinct (function, file) seen, never one per sample or goroutine.
#ifndef GSPY_PROFILE_REDACT_REDACTOR_H_
#define GSPY_PROFILE_REDACT_REDACTOR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "profile/filter/sample_filter.h"
#include "profile/redact/keyed_hash.h"
#include "proto/gspy/v1/profiler.pb.h"
#include "proto/pprof/profile.pb.h"
#include "re2/re2.h"

namespace gspy {

// A redacted frame's function name.
inline constexpr absl::string_view kRedactedFunction = "[redacted]";
// The pprof sample label that carries a goroutine id (numeric).
inline constexpr absl::string_view kGoidLabel = "goid";

struct RedactOptions {
  // RE2 patterns, matched anywhere in the function's name and in its file's
  // path (unanchored, as the filter language's). Empty: none.
  std::string functions;
  std::string files;
  // Label keys whose values are hashed, and label keys removed.
  std::vector<std::string> redact_labels;
  std::vector<std::string> drop_labels;
  bool anonymize_goroutine_ids = false;
};

class Redactor {
 public:
  // The redactor that changes nothing.
  static const Redactor& None();

  // INVALID_ARGUMENT for a bad pattern or a key both hashed and dropped.
  // `key` is needed (and only used) when labels are hashed or goroutine ids
  // anonymized.
  static absl::StatusOr<std::unique_ptr<Redactor>> Create(
      const RedactOptions& options, std::optional<KeyedHash> key);

  // Whether anything is redacted at all (else every call is a no-op).
  bool active() const { return active_; }

  // Whether a frame of `function` in `file` is redacted (cached).
  bool RedactsFrame(absl::string_view function, absl::string_view file) const;
  // What a label's value becomes: itself, its hash, or nullopt (dropped).
  std::optional<std::string> LabelValue(absl::string_view key,
                                        absl::string_view value) const;
  // A goroutine id's anonymized form (itself without anonymization). 0 (no
  // goroutine, an unknown parent) stays 0; others map into [1, 2^63) so that
  // they stay positive int64s, as goids are in the API and in pprof.
  int64_t GoroutineId(int64_t goid) const;

  // Filters run before redaction, on the real names and values: a filter
  // that looks at what is redacted would let a client test guesses of it
  // (does stack:~Secret match?). INVALID_ARGUMENT for such a filter: stack
  // terms while frames are redacted, label terms on a redacted or dropped
  // key. `filter` may be null (none).
  absl::Status CheckFilter(const SampleFilter* filter) const;

  // A decoded pprof profile, in place; unreferenced strings are removed from
  // the string table, so no trace of a redacted name or value is left.
  void RedactProfile(perftools::profiles::Profile* profile) const;
  // A serialized profile (gzip-compressed or not) -> gzip-compressed. The
  // bytes as they are when not active(). Errors when the bytes do not decode:
  // the caller must then send nothing rather than the unredacted profile.
  absl::StatusOr<std::string> RedactPprof(std::string bytes) const;
  // A process's goroutine dump: frames, creators, labels, goids.
  void RedactGoroutines(gspy::v1::ProcessGoroutines* process) const;
  // Name/value pairs (a push series' labels, a metric's, a target's
  // metadata), in place, order kept.
  void RedactLabelPairs(
      std::vector<std::pair<std::string, std::string>>* labels) const;

 private:
  // A goroutine's or a shared label set's labels, in place.
  void RedactLabels(
      google::protobuf::RepeatedPtrField<gspy::v1::Label>* labels) const;

  Redactor() = default;

  bool active_ = false;
  std::unique_ptr<RE2> functions_;
  std::unique_ptr<RE2> files_;
  absl::flat_hash_set<std::string> redact_labels_;
  absl::flat_hash_set<std::string> drop_labels_;
  bool anonymize_goids_ = false;
  std::optional<KeyedHash> key_;

  // function '\0' file -> redacted. Bounded: cleared when full (a decision
  // is cheap to make again; a target must not grow gspyd without end).
  static constexpr size_t kMaxCachedFrames = 1 << 16;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, bool> frame_cache_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_PROFILE_REDACT_REDACTOR_H_
