#include "daemon/export/push/otlp_profile.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/version.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {

namespace otlp = opentelemetry::proto::profiles::v1development;
namespace otlp_common = opentelemetry::proto::common::v1;

namespace {

void AddAttribute(opentelemetry::proto::resource::v1::Resource* resource,
                  const std::string& key, const std::string& value) {
  otlp_common::KeyValue* kv = resource->add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

// PushProfile::id, a UUID in its text form, as the 16 bytes of an OTLP
// profile id, the low byte varied by `n` (one pprof makes one OTLP profile
// per sample type; each needs its own id). Empty when `id` is no UUID.
std::string ProfileId(absl::string_view id, int n) {
  std::string hex;
  for (char c : id) {
    if (c != '-') hex.push_back(c);
  }
  std::string out;
  if (hex.size() != 32) return out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int byte = 0;
    for (char c : hex.substr(i, 2)) {
      const int d = absl::ascii_isdigit(c)   ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                             : -1;
      if (d < 0) return "";
      byte = byte * 16 + d;
    }
    out.push_back(static_cast<char>(byte));
  }
  out.back() = static_cast<char>(out.back() ^ n);
  return out;
}

}  // namespace

opentelemetry::proto::resource::v1::Resource OtlpResource(
    const LabelList& labels) {
  // https://opentelemetry.io/docs/specs/semconv/: service.*, process.*,
  // k8s.* resource attributes. PushLabels names the series' labels.
  static const auto* const kSemconv =
      new absl::flat_hash_map<std::string, std::string>{
          {"service_name", "service.name"}, {"namespace", "k8s.namespace.name"},
          {"pod", "k8s.pod.name"},          {"container", "k8s.container.name"},
          {"node", "k8s.node.name"},
      };
  opentelemetry::proto::resource::v1::Resource resource;
  for (const auto& [k, v] : labels) {
    if (k == "__name__") continue;
    if (k == "pid") {
      int64_t pid = 0;
      otlp_common::KeyValue* kv = resource.add_attributes();
      kv->set_key("process.pid");
      if (absl::SimpleAtoi(v, &pid)) {
        kv->mutable_value()->set_int_value(pid);
      } else {
        kv->mutable_value()->set_string_value(v);
      }
      continue;
    }
    if (k == "exe") {
      AddAttribute(&resource, "process.executable.path", v);
      const size_t slash = v.rfind('/');
      AddAttribute(&resource, "process.executable.name",
                   slash == std::string::npos ? v : v.substr(slash + 1));
      continue;
    }
    // container_id is the short (12-character) form: semconv's container.id
    // is the full one, which a Collector's k8sattributes processor joins on,
    // so it is sent under gspy's name rather than a misleading container.id.
    auto it = kSemconv->find(k);
    AddAttribute(&resource, it != kSemconv->end() ? it->second : k, v);
  }
  AddAttribute(&resource, "process.runtime.name", "go");
  return resource;
}

OtlpRequestBuilder::OtlpRequestBuilder()
    : dict_(request_.mutable_dictionary()) {
  // Index 0 of every table is its zero value (profiles.proto,
  // ProfilesDictionary): a 0 index means "none".
  String("");
  Intern(otlp::Mapping(), dict_->mutable_mapping_table(), &mappings_);
  Intern(otlp::Function(), dict_->mutable_function_table(), &functions_);
  Intern(otlp::Location(), dict_->mutable_location_table(), &locations_);
  Intern(otlp::Stack(), dict_->mutable_stack_table(), &stacks_);
  Intern(otlp::KeyValueAndUnit(), dict_->mutable_attribute_table(),
         &attributes_);
  // The zero Link with ids of their full lengths, as the proto recommends.
  otlp::Link* link = dict_->add_link_table();
  link->set_trace_id(std::string(16, '\0'));
  link->set_span_id(std::string(8, '\0'));
}

int32_t OtlpRequestBuilder::String(absl::string_view s) {
  auto [it, added] = strings_.try_emplace(s, dict_->string_table_size());
  if (added) dict_->add_string_table(std::string(s));
  return it->second;
}

template <typename Message, typename Table>
int32_t OtlpRequestBuilder::Intern(
    const Message& item, Table* table,
    absl::flat_hash_map<std::string, int32_t>* index) {
  auto [it, added] =
      index->try_emplace(item.SerializeAsString(), table->size());
  if (added) *table->Add() = item;
  return it->second;
}

otlp::ScopeProfiles* OtlpRequestBuilder::ScopeFor(const LabelList& labels) {
  opentelemetry::proto::resource::v1::Resource resource = OtlpResource(labels);
  auto [it, added] = resources_.try_emplace(resource.SerializeAsString(),
                                            request_.resource_profiles_size());
  if (added) {
    otlp::ResourceProfiles* rp = request_.add_resource_profiles();
    *rp->mutable_resource() = std::move(resource);
    otlp_common::InstrumentationScope* scope =
        rp->add_scope_profiles()->mutable_scope();
    scope->set_name(kOtlpScopeName);
    scope->set_version(kGspyVersion);
  }
  return request_.mutable_resource_profiles(it->second)
      ->mutable_scope_profiles(0);
}

absl::Status OtlpRequestBuilder::Add(const PushProfile& profile) {
  // Checked as pprof's decoder does: every index below resolves.
  absl::StatusOr<perftools::profiles::Profile> decoded =
      DecodeProfile(profile.pprof);
  if (!decoded.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a pushed pprof does not decode: ", decoded.status().message()));
  }
  const perftools::profiles::Profile& p = *decoded;
  auto str = [&](int64_t i) { return String(p.string_table(i)); };

  absl::flat_hash_map<uint64_t, int32_t> mapping_of;  // pprof id -> index
  for (const auto& m : p.mapping()) {
    otlp::Mapping out;
    out.set_memory_start(m.memory_start());
    out.set_memory_limit(m.memory_limit());
    out.set_file_offset(m.file_offset());
    out.set_filename_strindex(str(m.filename()));
    mapping_of[m.id()] =
        Intern(out, dict_->mutable_mapping_table(), &mappings_);
  }
  absl::flat_hash_map<uint64_t, int32_t> function_of;
  for (const auto& f : p.function()) {
    otlp::Function out;
    out.set_name_strindex(str(f.name()));
    out.set_system_name_strindex(str(f.system_name()));
    out.set_filename_strindex(str(f.filename()));
    out.set_start_line(f.start_line());
    function_of[f.id()] =
        Intern(out, dict_->mutable_function_table(), &functions_);
  }
  absl::flat_hash_map<uint64_t, int32_t> location_of;
  for (const auto& l : p.location()) {
    otlp::Location out;
    if (l.mapping_id() != 0) out.set_mapping_index(mapping_of[l.mapping_id()]);
    out.set_address(l.address());
    // Innermost first in both formats.
    for (const auto& line : l.line()) {
      otlp::Line* o = out.add_lines();
      o->set_function_index(function_of[line.function_id()]);
      o->set_line(line.line());
      o->set_column(line.column());
    }
    location_of[l.id()] =
        Intern(out, dict_->mutable_location_table(), &locations_);
  }

  // Each sample's stack (leaf first in both) and attributes, once.
  struct Converted {
    int32_t stack = 0;
    std::vector<int32_t> attributes;
  };
  std::vector<Converted> samples;
  samples.reserve(p.sample_size());
  for (const auto& s : p.sample()) {
    Converted c;
    otlp::Stack stack;
    for (uint64_t id : s.location_id()) {
      stack.add_location_indices(location_of[id]);
    }
    c.stack = Intern(stack, dict_->mutable_stack_table(), &stacks_);
    // An attribute's key once per sample (the proto's rule; pprof only
    // discourages repeating a key): the first value wins.
    absl::flat_hash_map<int64_t, bool> keys;
    for (const auto& label : s.label()) {
      if (!keys.try_emplace(label.key(), true).second) continue;
      otlp::KeyValueAndUnit kv;
      kv.set_key_strindex(str(label.key()));
      if (label.str() != 0) {
        kv.mutable_value()->set_string_value(p.string_table(label.str()));
      } else {
        kv.mutable_value()->set_int_value(label.num());
        if (label.num_unit() != 0) kv.set_unit_strindex(str(label.num_unit()));
      }
      c.attributes.push_back(
          Intern(kv, dict_->mutable_attribute_table(), &attributes_));
    }
    samples.push_back(std::move(c));
  }

  otlp::ScopeProfiles* scope = ScopeFor(profile.labels);
  for (int t = 0; t < p.sample_type_size(); ++t) {
    otlp::Profile* out = scope->add_profiles();
    out->mutable_sample_type()->set_type_strindex(str(p.sample_type(t).type()));
    out->mutable_sample_type()->set_unit_strindex(str(p.sample_type(t).unit()));
    if (p.has_period_type()) {
      out->mutable_period_type()->set_type_strindex(
          str(p.period_type().type()));
      out->mutable_period_type()->set_unit_strindex(
          str(p.period_type().unit()));
    }
    out->set_period(p.period());
    out->set_time_unix_nano(static_cast<uint64_t>(p.time_nanos()));
    out->set_duration_nano(static_cast<uint64_t>(p.duration_nanos()));
    out->set_profile_id(ProfileId(profile.id, t));
    for (int i = 0; i < p.sample_size(); ++i) {
      const int64_t v = p.sample(i).value(t);
      if (v == 0) continue;  // e.g. a stack that allocated but holds nothing
      otlp::Sample* s = out->add_samples();
      s->set_stack_index(samples[i].stack);
      for (int32_t a : samples[i].attributes) s->add_attribute_indices(a);
      s->add_values(v);
    }
  }
  return absl::OkStatus();
}

opentelemetry::proto::collector::profiles::v1development::
    ExportProfilesServiceRequest
    OtlpRequestBuilder::Take() && {
  return std::move(request_);
}

}  // namespace gspy
