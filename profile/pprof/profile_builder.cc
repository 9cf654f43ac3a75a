#include "profile/pprof/profile_builder.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace gspy {

namespace pb = perftools::profiles;

ProfileBuilder::ProfileBuilder(std::vector<ValueType> sample_types,
                               ValueType period_type, int64_t period) {
  // pprof's decoder rejects a profile whose first string is not "".
  Intern("");
  for (const ValueType& vt : sample_types) {
    pb::ValueType* out = profile_.add_sample_type();
    out->set_type(Intern(vt.type));
    out->set_unit(Intern(vt.unit));
  }
  pb::ValueType* pt = profile_.mutable_period_type();
  pt->set_type(Intern(period_type.type));
  pt->set_unit(Intern(period_type.unit));
  profile_.set_period(period);
}

void ProfileBuilder::SetTime(absl::Time start, absl::Duration duration) {
  profile_.set_time_nanos(absl::ToUnixNanos(start));
  profile_.set_duration_nanos(absl::ToInt64Nanoseconds(duration));
}

void ProfileBuilder::AddComment(std::string_view comment) {
  profile_.add_comment(Intern(comment));
}

void ProfileBuilder::SetDefaultSampleType(std::string_view type) {
  profile_.set_default_sample_type(Intern(type));
}

uint64_t ProfileBuilder::AddMapping(const MappingInfo& mapping) {
  pb::Mapping* m = profile_.add_mapping();
  const uint64_t id = static_cast<uint64_t>(profile_.mapping_size());
  m->set_id(id);
  m->set_memory_start(mapping.memory_start);
  m->set_memory_limit(mapping.memory_limit);
  m->set_file_offset(mapping.file_offset);
  m->set_filename(Intern(mapping.filename));
  m->set_build_id(Intern(mapping.build_id));
  m->set_has_functions(mapping.has_functions);
  m->set_has_filenames(mapping.has_filenames);
  m->set_has_line_numbers(mapping.has_line_numbers);
  m->set_has_inline_frames(mapping.has_inline_frames);
  return id;
}

uint64_t ProfileBuilder::LocationId(uint64_t mapping_id, uint64_t address,
                                    absl::Span<const Frame> frames,
                                    bool return_address) {
  // An unknown mapping id would dangle and make pprof reject the profile;
  // the frames are still worth keeping, so fall back to "no mapping".
  if (mapping_id > static_cast<uint64_t>(profile_.mapping_size())) {
    mapping_id = 0;
  }
  auto [it, inserted] =
      locations_.try_emplace({mapping_id, address, return_address}, 0);
  if (!inserted) return it->second;

  pb::Location* loc = profile_.add_location();
  const uint64_t id = static_cast<uint64_t>(profile_.location_size());
  it->second = id;
  loc->set_id(id);
  loc->set_mapping_id(mapping_id);
  loc->set_address(address);
  // Frames arrive innermost first, which is also pprof's Line order: the
  // last line is the physical function the others were inlined into.
  for (const Frame& frame : frames) {
    pb::Line* line = loc->add_line();
    line->set_function_id(
        FunctionId(frame.function, frame.file, frame.start_line));
    line->set_line(frame.line);
  }
  return id;
}

uint64_t ProfileBuilder::SyntheticLocationId(std::string_view function_name) {
  auto [it, inserted] =
      synthetic_locations_.try_emplace(std::string(function_name), 0);
  if (!inserted) return it->second;

  pb::Location* loc = profile_.add_location();
  const uint64_t id = static_cast<uint64_t>(profile_.location_size());
  it->second = id;
  loc->set_id(id);
  loc->add_line()->set_function_id(FunctionId(function_name, "", 0));
  return id;
}

bool ProfileBuilder::AddSample(absl::Span<const uint64_t> location_ids,
                               absl::Span<const int64_t> values,
                               absl::Span<const SampleLabel> labels) {
  // Check everything before touching the proto so a refused sample leaves
  // no trace (not even interned strings).
  bool valid =
      values.size() == static_cast<size_t>(profile_.sample_type_size());
  const uint64_t location_count = profile_.location_size();
  for (uint64_t id : location_ids) {
    if (id == 0 || id > location_count) valid = false;
  }
  for (const SampleLabel& label : labels) {
    if (label.key.empty()) valid = false;
  }
  if (!valid) {
    ++dropped_samples_;
    return false;
  }

  pb::Sample* sample = profile_.add_sample();
  sample->mutable_location_id()->Add(location_ids.begin(), location_ids.end());
  sample->mutable_value()->Add(values.begin(), values.end());
  for (const SampleLabel& label : labels) {
    pb::Label* out = sample->add_label();
    out->set_key(Intern(label.key));
    if (label.is_num) {
      out->set_num(label.num);
      if (!label.num_unit.empty()) out->set_num_unit(Intern(label.num_unit));
    } else {
      out->set_str(Intern(label.str));
    }
  }
  return true;
}

size_t ProfileBuilder::sample_count() const {
  return static_cast<size_t>(profile_.sample_size());
}

std::string ProfileBuilder::SerializeGzip() const {
  return GzipCompress(profile_.SerializeAsString());
}

int64_t ProfileBuilder::Intern(std::string_view s) {
  // Look up by view first: most strings repeat, so avoid a copy per call.
  // (Debian's abseil has its own string_view type, hence the conversion.)
  if (auto it = strings_.find(absl::string_view(s.data(), s.size()));
      it != strings_.end()) {
    return it->second;
  }
  const int64_t index = profile_.string_table_size();
  strings_.emplace(std::string(s), index);
  profile_.add_string_table(std::string(s));
  return index;
}

uint64_t ProfileBuilder::FunctionId(std::string_view name,
                                    std::string_view file, int64_t start_line) {
  // NUL cannot occur in symbol or file names, so the key is unambiguous.
  std::string key(name);
  key.push_back('\0');
  key.append(file);
  key.push_back('\0');
  absl::StrAppend(&key, start_line);
  auto [it, inserted] = functions_.try_emplace(std::move(key), 0);
  if (!inserted) return it->second;

  pb::Function* fn = profile_.add_function();
  const uint64_t id = static_cast<uint64_t>(profile_.function_size());
  it->second = id;
  fn->set_id(id);
  // Go's runtime/pprof writes the same name to both fields.
  fn->set_name(Intern(name));
  fn->set_system_name(Intern(name));
  fn->set_filename(Intern(file));
  fn->set_start_line(start_line);
  return id;
}

}  // namespace gspy
