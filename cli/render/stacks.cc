#include "cli/render/stacks.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gspy {
namespace render_internal {
namespace {

namespace pb = perftools::profiles;

class StackCollector {
 public:
  StackCollector(const pb::Profile& p, const RenderOptions& options)
      : p_(p), options_(options) {}

  absl::StatusOr<ValueKind> Run(
      absl::FunctionRef<void(const std::vector<Frame>&, int64_t)> visit) {
    ValueKind out;
    const int types = p_.sample_type_size();
    if (types == 0) {
      if (p_.sample_size() == 0) return out;
      return absl::InvalidArgumentError("profile has no sample types");
    }
    const int index =
        options_.value_index < 0 ? types - 1 : options_.value_index;
    if (options_.value_index < -1 || index >= types) {
      return absl::InvalidArgumentError(
          absl::StrCat("value_index ", options_.value_index,
                       " out of range: profile has ", types, " sample types"));
    }
    out.type = Str(p_.sample_type(index).type());
    out.unit = Str(p_.sample_type(index).unit());

    for (const pb::Function& f : p_.function()) functions_[f.id()] = &f;
    for (const pb::Location& l : p_.location()) locations_[l.id()] = &l;

    std::vector<Frame> frames;
    for (const pb::Sample& s : p_.sample()) {
      if (index >= s.value_size()) {
        return absl::InvalidArgumentError("sample with too few values");
      }
      const int64_t value = s.value(index);
      if (value <= 0) continue;
      frames.clear();
      if (!options_.group_by_label.empty()) frames.push_back({Group(s)});
      // location_id is leaf first; walk it backwards for root first.
      for (int i = s.location_id_size() - 1; i >= 0; --i) {
        auto it = locations_.find(s.location_id(i));
        if (it == locations_.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("unknown location id ", s.location_id(i)));
        }
        AppendLocation(*it->second, frames);
      }
      if (!status_.ok()) return status_;
      // A sample without locations has no stack to draw.
      if (frames.empty()) continue;
      visit(frames, value);
    }
    if (!status_.ok()) return status_;
    return out;
  }

 private:
  // Resolves a string index; an out-of-range one is an error, not a crash.
  const std::string& Str(int64_t index) {
    if (index < 0 || index >= p_.string_table_size()) {
      if (status_.ok()) {
        status_ = absl::InvalidArgumentError(
            absl::StrCat("string index ", index, " out of range"));
      }
      return empty_;
    }
    return p_.string_table(static_cast<int>(index));
  }

  std::string Group(const pb::Sample& s) {
    const std::string& key = options_.group_by_label;
    for (const pb::Label& label : s.label()) {
      if (Str(label.key()) != key) continue;
      // pprof keeps the first value when a key repeats; so do we.
      if (label.str() != 0) return absl::StrCat(key, "=", Str(label.str()));
      return absl::StrCat(key, "=", label.num(), Str(label.num_unit()));
    }
    return absl::StrCat(key, "=<none>");
  }

  void AppendLocation(const pb::Location& loc, std::vector<Frame>& frames) {
    if (loc.line_size() == 0) {
      // Unsymbolized: the address is all there is, as pprof shows it.
      frames.push_back({absl::StrFormat("0x%x", loc.address())});
      return;
    }
    // Lines are innermost first; the physical function (last) is the
    // outermost caller, so reverse for root-to-leaf order.
    for (int i = loc.line_size() - 1; i >= 0; --i) {
      const uint64_t fid = loc.line(i).function_id();
      auto it = functions_.find(fid);
      if (fid == 0 || it == functions_.end()) {
        frames.push_back({absl::StrFormat("0x%x", loc.address())});
        continue;
      }
      frames.push_back({Str(it->second->name()), Str(it->second->filename()),
                        loc.line(i).line()});
    }
  }

  const pb::Profile& p_;
  const RenderOptions& options_;
  absl::flat_hash_map<uint64_t, const pb::Function*> functions_;
  absl::flat_hash_map<uint64_t, const pb::Location*> locations_;
  absl::Status status_;
  const std::string empty_;
};

}  // namespace

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) {
    return std::numeric_limits<int64_t>::max();
  }
  return sum;
}

absl::StatusOr<ValueKind> ForEachStack(
    const pb::Profile& profile, const RenderOptions& options,
    absl::FunctionRef<void(const std::vector<Frame>&, int64_t)> visit) {
  return StackCollector(profile, options).Run(visit);
}

absl::StatusOr<Stacks> CollectStacks(const pb::Profile& profile,
                                     const RenderOptions& options) {
  Stacks out;
  std::vector<std::string> names;
  absl::StatusOr<ValueKind> kind = ForEachStack(
      profile, options, [&](const std::vector<Frame>& frames, int64_t value) {
        names.clear();
        for (const Frame& f : frames) names.push_back(f.name);
        int64_t& slot = out.stacks[names];
        slot = SaturatingAdd(slot, value);
        out.total = SaturatingAdd(out.total, value);
      });
  if (!kind.ok()) return kind.status();
  out.value_type = kind->type;
  out.value_unit = kind->unit;
  return out;
}

absl::Status CheckSameKind(const Stacks& base, const Stacks& current) {
  if (base.value_type == current.value_type &&
      base.value_unit == current.value_unit) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "the profiles measure different things: base ", base.value_type, "/",
      base.value_unit, ", new ", current.value_type, "/", current.value_unit));
}

}  // namespace render_internal
}  // namespace gspy
