// Pushed profiles as one OTLP ExportProfilesServiceRequest (OpenTelemetry
// profiles v1development; proto/CMakeLists.txt says which release and why).
// Each pprof gspy pushes becomes one OTLP Profile per sample type (an OTLP
// Profile has one), sharing the request's dictionary: strings, mappings,
// functions, locations, stacks and attributes, each item once. pprof labels
// become sample attributes; the series' labels become the resource's
// attributes, named by the OpenTelemetry semantic conventions.
#ifndef GSPY_DAEMON_EXPORT_PUSH_OTLP_PROFILE_H_
#define GSPY_DAEMON_EXPORT_PUSH_OTLP_PROFILE_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "daemon/export/push/push_profile.h"
#include "opentelemetry/proto/collector/profiles/v1development/profiles_service.pb.h"
#include "proto/pprof/profile.pb.h"

namespace gspy {

// The instrumentation scope of every profile gspy sends.
inline constexpr char kOtlpScopeName[] = "gspy";

// The resource attributes of a series (PushLabels' labels): service_name ->
// service.name, pid -> process.pid (an int), exe ->
// process.executable.path and .name, namespace, pod, container and node ->
// k8s.namespace.name, k8s.pod.name, k8s.container.name, k8s.node.name;
// other labels (--push-labels) keep their names. __name__ is left out: the
// sample type names the profile.
opentelemetry::proto::resource::v1::Resource OtlpResource(
    const LabelList& labels);

class OtlpRequestBuilder {
 public:
  OtlpRequestBuilder();

  // Adds one pushed profile. INVALID_ARGUMENT when its pprof does not
  // decode (then nothing of it is added).
  absl::Status Add(const PushProfile& profile);

  // The request so far; the builder must not be used after.
  opentelemetry::proto::collector::profiles::v1development::
      ExportProfilesServiceRequest
      Take() &&;

 private:
  using Dictionary =
      opentelemetry::proto::profiles::v1development::ProfilesDictionary;

  int32_t String(absl::string_view s);
  // The index of `item` in `table`, added when not there yet (items are
  // told apart by their serialized bytes: these messages have no maps,
  // so equal messages serialize equally).
  template <typename Message, typename Table>
  int32_t Intern(const Message& item, Table* table,
                 absl::flat_hash_map<std::string, int32_t>* index);
  // The ScopeProfiles of the resource of `labels`.
  opentelemetry::proto::profiles::v1development::ScopeProfiles* ScopeFor(
      const LabelList& labels);

  opentelemetry::proto::collector::profiles::v1development::
      ExportProfilesServiceRequest request_;
  Dictionary* dict_;
  absl::flat_hash_map<std::string, int32_t> strings_;
  absl::flat_hash_map<std::string, int32_t> mappings_;
  absl::flat_hash_map<std::string, int32_t> functions_;
  absl::flat_hash_map<std::string, int32_t> locations_;
  absl::flat_hash_map<std::string, int32_t> stacks_;
  absl::flat_hash_map<std::string, int32_t> attributes_;
  absl::flat_hash_map<std::string, int> resources_;  // -> resource_profiles
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_OTLP_PROFILE_H_
