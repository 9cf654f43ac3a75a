#include "daemon/aggregation/wall_parts.h"

#include <utility>
#include <vector>

#include "profile/pprof/profile_builder.h"
#include "profile/pprof/profile_merge.h"

namespace gspy {
namespace {

// Gives a (count, nanoseconds) profile the wall profile's sample types and
// labels each sample with `state`.
absl::StatusOr<perftools::profiles::Profile> AsWallPart(
    const std::string& gzipped, const std::string& state) {
  absl::StatusOr<perftools::profiles::Profile> p = DecodeProfile(gzipped);
  if (!p.ok()) return p.status();
  auto add = [&](const std::string& s) {
    p->add_string_table(s);
    return static_cast<int64_t>(p->string_table_size() - 1);
  };
  const int64_t samples = add("samples"), count = add("count"),
                wall = add("wall"), ns = add("nanoseconds"),
                state_key = add("state"), state_value = add(state);
  if (p->sample_type_size() != 2) {
    return absl::InternalError("a wall part must have two sample types");
  }
  p->mutable_sample_type(0)->set_type(samples);
  p->mutable_sample_type(0)->set_unit(count);
  p->mutable_sample_type(1)->set_type(wall);
  p->mutable_sample_type(1)->set_unit(ns);
  p->mutable_period_type()->set_type(wall);
  p->mutable_period_type()->set_unit(ns);
  p->set_default_sample_type(wall);
  for (auto& s : *p->mutable_sample()) {
    auto* l = s.add_label();
    l->set_key(state_key);
    l->set_str(state_value);
  }
  return p;
}

}  // namespace

absl::StatusOr<perftools::profiles::Profile> MergeWallParts(
    const std::string& running, const std::string& waiting,
    const std::string& runnable) {
  std::vector<perftools::profiles::Profile> parts;
  for (auto [gz, state] :
       {std::pair{&running, "running"}, std::pair{&waiting, "waiting"},
        std::pair{&runnable, "runnable"}}) {
    absl::StatusOr<perftools::profiles::Profile> part = AsWallPart(*gz, state);
    if (!part.ok()) return part.status();
    parts.push_back(*std::move(part));
  }
  return MergeProfiles(parts);
}

}  // namespace gspy
