#include "daemon/export/push/push_types.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gspy {

std::string PushTypes::ToString() const {
  std::vector<std::string> out;
  if (cpu) out.push_back("cpu");
  if (block) out.push_back("block");
  if (wall) out.push_back("wall");
  if (heap) out.push_back("heap");
  if (goroutine) out.push_back("goroutine");
  return absl::StrJoin(out, ",");
}

absl::StatusOr<PushTypes> ParsePushTypes(
    const std::vector<std::string>& names) {
  PushTypes t;
  for (const std::string& raw : names) {
    const std::string n =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
    if (n.empty()) continue;
    if (n == "cpu") {
      t.cpu = true;
    } else if (n == "block") {
      t.block = true;
    } else if (n == "wall") {
      t.wall = true;
    } else if (n == "heap") {
      t.heap = true;
    } else if (n == "goroutine" || n == "goroutines") {
      t.goroutine = true;
    } else if (n == "all") {
      t.cpu = t.block = t.wall = t.heap = t.goroutine = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--push-profiles: unknown profile type \"", raw,
                       "\"; want cpu, block, wall, heap, goroutine or all"));
    }
  }
  if (!t.cpu && !t.sampled() && !t.heap && !t.goroutine) {
    return absl::InvalidArgumentError(
        "--push-profiles: name at least one of cpu, block, wall, heap, "
        "goroutine");
  }
  return t;
}

namespace {

int64_t StringIndex(perftools::profiles::Profile* p, const std::string& s) {
  auto& table = *p->mutable_string_table();
  auto it = std::find(table.begin(), table.end(), s);
  if (it != table.end()) return it - table.begin();
  p->add_string_table(s);
  return p->string_table_size() - 1;
}

}  // namespace

void RenameWallForParca(perftools::profiles::Profile* profile) {
  if (profile->sample_type_size() != 2) return;
  const int64_t wallclock = StringIndex(profile, "wallclock");
  const int64_t time = StringIndex(profile, "time");
  profile->mutable_sample_type(1)->set_type(time);
  profile->mutable_period_type()->set_type(wallclock);
  profile->set_default_sample_type(time);
}

void KeepSampleTypes(perftools::profiles::Profile* profile,
                     const std::vector<std::string>& keep) {
  std::vector<int> index;
  for (const std::string& name : keep) {
    for (int i = 0; i < profile->sample_type_size(); ++i) {
      const int64_t type = profile->sample_type(i).type();
      if (type >= 0 && type < profile->string_table_size() &&
          profile->string_table(static_cast<int>(type)) == name) {
        index.push_back(i);
        break;
      }
    }
  }
  google::protobuf::RepeatedPtrField<perftools::profiles::ValueType> types;
  for (int i : index) *types.Add() = profile->sample_type(i);
  profile->mutable_sample_type()->Swap(&types);
  auto* samples = profile->mutable_sample();
  int kept = 0;
  for (int s = 0; s < samples->size(); ++s) {
    perftools::profiles::Sample* sample = samples->Mutable(s);
    std::vector<int64_t> values;
    bool any = false;
    for (int i : index) {
      const int64_t v = i < sample->value_size() ? sample->value(i) : 0;
      values.push_back(v);
      any = any || v != 0;
    }
    if (!any) continue;  // nothing of these types: left out
    sample->mutable_value()->Assign(values.begin(), values.end());
    if (kept != s) samples->SwapElements(kept, s);
    ++kept;
  }
  while (samples->size() > kept) samples->RemoveLast();
  profile->set_default_sample_type(0);
}

}  // namespace gspy
