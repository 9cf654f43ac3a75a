// Redactor's pprof half: rewrites a decoded profile's function table and
// sample labels, then rebuilds the string table from what is still
// referenced, so that no redacted name or label value survives in it.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "profile/pprof/profile_builder.h"
#include "profile/redact/redactor.h"

namespace gspy {
namespace {

namespace pb = perftools::profiles;

// Appends strings to a profile's table (old indices stay valid).
class Appender {
 public:
  explicit Appender(pb::Profile* p) : p_(p) {}
  int64_t Add(absl::string_view s) {
    auto [it, added] = added_.try_emplace(std::string(s), 0);
    if (added) {
      it->second = p_->string_table_size();
      p_->add_string_table(std::string(s));
    }
    return it->second;
  }

 private:
  pb::Profile* p_;
  absl::flat_hash_map<std::string, int64_t> added_;
};

// Rebuilds the string table with only the strings some field refers to.
// The fields are those of profile.proto (and of DecodeProfile's checks).
void CompactStrings(pb::Profile* p) {
  const int64_t n = p->string_table_size();
  std::vector<int64_t> remap(static_cast<size_t>(n), -1);
  std::vector<std::string> table;
  absl::flat_hash_map<std::string, int64_t> by_text;
  auto map = [&](int64_t old) -> int64_t {
    if (old < 0 || old >= n) return 0;  // DecodeProfile's checks exclude it
    int64_t& slot = remap[static_cast<size_t>(old)];
    if (slot < 0) {
      auto [it, added] = by_text.try_emplace(
          p->string_table(old), static_cast<int64_t>(table.size()));
      if (added) table.push_back(p->string_table(old));
      slot = it->second;
    }
    return slot;
  };
  map(0);  // "" stays first
  auto type = [&](pb::ValueType* vt) {
    vt->set_type(map(vt->type()));
    vt->set_unit(map(vt->unit()));
  };
  for (pb::ValueType& vt : *p->mutable_sample_type()) type(&vt);
  if (p->has_period_type()) type(p->mutable_period_type());
  for (pb::Sample& s : *p->mutable_sample()) {
    for (pb::Label& l : *s.mutable_label()) {
      l.set_key(map(l.key()));
      l.set_str(map(l.str()));
      l.set_num_unit(map(l.num_unit()));
    }
  }
  for (pb::Mapping& m : *p->mutable_mapping()) {
    m.set_filename(map(m.filename()));
    m.set_build_id(map(m.build_id()));
  }
  for (pb::Function& f : *p->mutable_function()) {
    f.set_name(map(f.name()));
    f.set_system_name(map(f.system_name()));
    f.set_filename(map(f.filename()));
  }
  p->set_drop_frames(map(p->drop_frames()));
  p->set_keep_frames(map(p->keep_frames()));
  for (int64_t& c : *p->mutable_comment()) c = map(c);
  p->set_default_sample_type(map(p->default_sample_type()));
  p->set_doc_url(map(p->doc_url()));
  p->clear_string_table();
  for (std::string& s : table) p->add_string_table(std::move(s));
}

}  // namespace

void Redactor::RedactProfile(pb::Profile* p) const {
  if (!active_) return;
  Appender strings(p);
  const auto str = [p](int64_t i) -> const std::string& {
    return p->string_table(static_cast<int>(i));
  };

  // Frames: one decision per function of the table. A redacted function
  // keeps its id, so every location and sample stays as it was.
  absl::flat_hash_set<uint64_t> redacted_functions;
  if (functions_ != nullptr || files_ != nullptr) {
    const int64_t redacted_name = strings.Add(kRedactedFunction);
    for (pb::Function& f : *p->mutable_function()) {
      if (!RedactsFrame(str(f.name()), str(f.filename())) &&
          !RedactsFrame(str(f.system_name()), str(f.filename()))) {
        continue;
      }
      f.set_name(redacted_name);
      f.set_system_name(redacted_name);
      f.set_filename(0);
      f.set_start_line(0);
      redacted_functions.insert(f.id());
    }
    if (!redacted_functions.empty()) {
      for (pb::Location& loc : *p->mutable_location()) {
        bool redacted = false;
        for (pb::Line& line : *loc.mutable_line()) {
          if (redacted_functions.contains(line.function_id())) {
            line.set_line(0);
            line.set_column(0);
            redacted = true;
          }
        }
        // Whoever has the binary would symbolize the address again. One
        // address serves all the frames inlined at it, so it goes if any
        // of them is redacted.
        if (redacted) loc.set_address(0);
      }
    }
  }

  // Labels: one decision per (key, value) string pair, not per sample.
  if (!redact_labels_.empty() || !drop_labels_.empty() || anonymize_goids_) {
    absl::flat_hash_map<std::pair<int64_t, int64_t>, int64_t> values;
    absl::flat_hash_map<int64_t, int64_t> goids;  // one HMAC per goroutine
    for (pb::Sample& s : *p->mutable_sample()) {
      auto* labels = s.mutable_label();
      int kept = 0;
      for (int i = 0; i < labels->size(); ++i) {
        pb::Label& l = (*labels)[i];
        const std::string& key = str(l.key());
        if (drop_labels_.contains(key)) continue;
        if (anonymize_goids_ && key == kGoidLabel && l.str() == 0) {
          auto [it, added] = goids.try_emplace(l.num(), 0);
          if (added) it->second = GoroutineId(l.num());
          l.set_num(it->second);
        }
        if (l.str() != 0 && redact_labels_.contains(key)) {
          auto [it, added] = values.try_emplace({l.key(), l.str()}, 0);
          if (added) {
            it->second = strings.Add(*LabelValue(key, str(l.str())));
          }
          l.set_str(it->second);
        }
        if (kept != i) labels->SwapElements(kept, i);
        ++kept;
      }
      while (labels->size() > kept) labels->RemoveLast();
    }
  }
  CompactStrings(p);
}

absl::StatusOr<std::string> Redactor::RedactPprof(std::string bytes) const {
  if (!active_) return bytes;
  absl::StatusOr<pb::Profile> profile = DecodeProfile(bytes);
  if (!profile.ok()) {
    return absl::Status(profile.status().code(),
                        absl::StrCat("redaction: cannot decode the profile: ",
                                     profile.status().message()));
  }
  RedactProfile(&*profile);
  return GzipCompress(profile->SerializeAsString());
}

}  // namespace gspy
