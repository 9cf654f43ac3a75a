// DecodeProfile: parse and validate a pprof profile from untrusted bytes.
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

namespace pb = perftools::profiles;

// Validation helpers return the first problem found, naming the field so a
// user can tell a truncated download from a producer bug.
class Validator {
 public:
  explicit Validator(const pb::Profile& p) : p_(p) {}

  absl::Status Run() {
    if (p_.string_table_size() == 0 || !p_.string_table(0).empty()) {
      return absl::InvalidArgumentError("string_table[0] must be ''");
    }
    Str(p_.drop_frames(), "drop_frames");
    Str(p_.keep_frames(), "keep_frames");
    Str(p_.default_sample_type(), "default_sample_type");
    for (int64_t c : p_.comment()) Str(c, "comment");
    Type(p_.period_type(), "period_type");
    for (const pb::ValueType& vt : p_.sample_type()) Type(vt, "sample_type");

    absl::flat_hash_set<uint64_t> mappings, functions, locations;
    for (const pb::Mapping& m : p_.mapping()) {
      Id(m.id(), mappings, "mapping");
      Str(m.filename(), "mapping.filename");
      Str(m.build_id(), "mapping.build_id");
    }
    for (const pb::Function& f : p_.function()) {
      Id(f.id(), functions, "function");
      Str(f.name(), "function.name");
      Str(f.system_name(), "function.system_name");
      Str(f.filename(), "function.filename");
    }
    for (const pb::Location& l : p_.location()) {
      Id(l.id(), locations, "location");
      if (l.mapping_id() != 0 && !mappings.contains(l.mapping_id())) {
        Fail(absl::StrCat("location ", l.id(), " has unknown mapping_id ",
                          l.mapping_id()));
      }
      for (const pb::Line& line : l.line()) {
        // pprof's decoder allows function_id 0 (a line without a function).
        if (line.function_id() != 0 &&
            !functions.contains(line.function_id())) {
          Fail(absl::StrCat("location ", l.id(), " has unknown function_id ",
                            line.function_id()));
        }
      }
    }
    if (p_.sample_size() > 0 && p_.sample_type_size() == 0) {
      Fail("profile has samples but no sample types");
    }
    for (int i = 0; i < p_.sample_size(); ++i) {
      const pb::Sample& s = p_.sample(i);
      if (s.value_size() != p_.sample_type_size()) {
        Fail(absl::StrCat("sample ", i, " has ", s.value_size(),
                          " values, want ", p_.sample_type_size()));
      }
      for (uint64_t id : s.location_id()) {
        if (!locations.contains(id)) {
          Fail(absl::StrCat("sample ", i, " has unknown location_id ", id));
        }
      }
      for (const pb::Label& label : s.label()) {
        Str(label.key(), "label.key");
        Str(label.str(), "label.str");
        Str(label.num_unit(), "label.num_unit");
      }
      if (!status_.ok()) break;
    }
    return status_;
  }

 private:
  void Fail(std::string message) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(message);
  }
  void Str(int64_t index, absl::string_view field) {
    if (index < 0 || index >= p_.string_table_size()) {
      Fail(absl::StrCat(field, ": string index ", index, " out of range [0, ",
                        p_.string_table_size(), ")"));
    }
  }
  void Type(const pb::ValueType& vt, absl::string_view field) {
    Str(vt.type(), field);
    Str(vt.unit(), field);
  }
  void Id(uint64_t id, absl::flat_hash_set<uint64_t>& seen,
          absl::string_view kind) {
    if (id == 0) Fail(absl::StrCat(kind, " has id 0"));
    if (!seen.insert(id).second) {
      Fail(absl::StrCat(kind, " id ", id, " is not unique"));
    }
  }

  const pb::Profile& p_;
  absl::Status status_;
};

}  // namespace

absl::StatusOr<perftools::profiles::Profile> DecodeProfile(
    std::string_view bytes) {
  absl::StatusOr<std::string> raw = MaybeGunzip(bytes);
  if (!raw.ok()) return raw.status();
  perftools::profiles::Profile profile;
  if (!profile.ParseFromString(*raw)) {
    return absl::InvalidArgumentError(
        "not a pprof profile: proto parse failed");
  }
  if (absl::Status s = Validator(profile).Run(); !s.ok()) return s;
  return profile;
}

}  // namespace gspy
