#include "profile/pprof/profile_merge.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

using perftools::profiles::Profile;

// Times and durations are whatever the profiles' producers wrote (decoding
// checks structure, not sense): sums saturate instead of overflowing.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<int64_t>::max()
               : std::numeric_limits<int64_t>::min();
}
int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  return b < 0 ? std::numeric_limits<int64_t>::max()
               : std::numeric_limits<int64_t>::min();
}

class Merger {
 public:
  Merger() { out_.add_string_table(""); }

  int64_t Str(const Profile& in, int64_t i) {
    const std::string& s = in.string_table(static_cast<int>(i));
    auto [it, inserted] = strings_.try_emplace(s, out_.string_table_size());
    if (inserted) out_.add_string_table(s);
    return it->second;
  }

  std::string TypeKey(const Profile& p) {
    std::string key;
    for (const auto& t : p.sample_type()) {
      absl::StrAppend(&key, p.string_table(t.type()), "/",
                      p.string_table(t.unit()), ";");
    }
    return key;
  }

  void Add(const Profile& in) {
    absl::flat_hash_map<uint64_t, uint64_t> mappings, functions, locations;
    for (const auto& m : in.mapping()) {
      auto* n = out_.add_mapping();
      *n = m;
      n->set_id(out_.mapping_size());
      n->set_filename(Str(in, m.filename()));
      n->set_build_id(Str(in, m.build_id()));
      mappings[m.id()] = n->id();
    }
    for (const auto& f : in.function()) {
      const auto key =
          std::make_tuple(Str(in, f.name()), Str(in, f.system_name()),
                          Str(in, f.filename()), f.start_line());
      auto [it, inserted] = function_ids_.try_emplace(key, 0);
      if (inserted) {
        auto* n = out_.add_function();
        n->set_id(out_.function_size());
        n->set_name(std::get<0>(key));
        n->set_system_name(std::get<1>(key));
        n->set_filename(std::get<2>(key));
        n->set_start_line(f.start_line());
        it->second = n->id();
      }
      functions[f.id()] = it->second;
    }
    for (const auto& l : in.location()) {
      auto* n = out_.add_location();
      *n = l;
      n->set_id(out_.location_size());
      n->set_mapping_id(l.mapping_id() == 0 ? 0 : mappings[l.mapping_id()]);
      for (auto& line : *n->mutable_line()) {
        line.set_function_id(functions[line.function_id()]);
      }
      locations[l.id()] = n->id();
    }
    for (const auto& s : in.sample()) {
      auto* n = out_.add_sample();
      *n = s;
      for (auto& id : *n->mutable_location_id()) id = locations[id];
      for (auto& label : *n->mutable_label()) {
        label.set_key(Str(in, label.key()));
        label.set_str(Str(in, label.str()));
        label.set_num_unit(Str(in, label.num_unit()));
      }
    }
    for (int64_t c : in.comment()) {
      const int64_t i = Str(in, c);
      if (comments_.insert(i).second) out_.add_comment(i);
    }
    if (in.time_nanos() != 0) {
      const int64_t end = SaturatingAdd(in.time_nanos(), in.duration_nanos());
      start_ =
          start_ == 0 ? in.time_nanos() : std::min(start_, in.time_nanos());
      end_ = std::max(end_, end);
    }
  }

  absl::StatusOr<Profile> Merge(const std::vector<Profile>& profiles) {
    if (profiles.empty()) {
      return absl::InvalidArgumentError("no profiles to merge");
    }
    const Profile& first = profiles.front();
    const std::string type = TypeKey(first);
    for (const Profile& p : profiles) {
      if (TypeKey(p) != type) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot merge profiles of different sample types: ", type, " and ",
            TypeKey(p)));
      }
    }
    for (const auto& t : first.sample_type()) {
      auto* n = out_.add_sample_type();
      n->set_type(Str(first, t.type()));
      n->set_unit(Str(first, t.unit()));
    }
    out_.mutable_period_type()->set_type(
        Str(first, first.period_type().type()));
    out_.mutable_period_type()->set_unit(
        Str(first, first.period_type().unit()));
    out_.set_period(first.period());
    out_.set_default_sample_type(Str(first, first.default_sample_type()));
    for (const Profile& p : profiles) Add(p);
    out_.set_time_nanos(start_);
    out_.set_duration_nanos(SaturatingSub(end_, start_));
    return std::move(out_);
  }

 private:
  Profile out_;
  absl::flat_hash_map<std::string, int64_t> strings_ = {{"", 0}};
  absl::flat_hash_map<std::tuple<int64_t, int64_t, int64_t, int64_t>, uint64_t>
      function_ids_;
  absl::flat_hash_set<int64_t> comments_;
  int64_t start_ = 0, end_ = 0;
};

}  // namespace

absl::StatusOr<perftools::profiles::Profile> MergeProfiles(
    const std::vector<perftools::profiles::Profile>& profiles) {
  return Merger().Merge(profiles);
}

}  // namespace gspy
