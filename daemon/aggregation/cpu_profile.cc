#include "daemon/aggregation/cpu_profile.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/aggregation/key_filter.h"
#include "daemon/aggregation/sample_labels.h"
#include "daemon/aggregation/stack_locations.h"
#include "daemon/aggregation/stack_recovery.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {

CpuProfile::CpuProfile(CpuProfileOptions options)
    : options_(std::move(options)),
      label_keys_(options_.label_keys.begin(), options_.label_keys.end()) {}

void CpuProfile::AddProcess(GoProcess process) {
  absl::MutexLock lock(&mu_);
  const int pid = process.pid;
  processes_.insert_or_assign(pid, std::move(process));
}

bool CpuProfile::HasProcess(int pid) const {
  absl::MutexLock lock(&mu_);
  return processes_.contains(pid);
}

void CpuProfile::Add(const gspy_cpu_sample& sample) {
  Key key;
  key.pid = static_cast<int>(sample.pid);
  if (options_.goroutine_ids) key.goid = sample.goid;
  // A filter may look at labels the output leaves out: keep them all until
  // the profile is built.
  static const absl::flat_hash_set<std::string> kAll;
  key.labels = DecodeLabels(sample.labels, sample.label_count,
                            options_.filter ? kAll : label_keys_);
  const uint64_t* frames = sample.frames;
  absl::Span<const uint64_t> user(frames, sample.user_depth);
  if (options_.kernel_stacks) {
    key.kernel.assign(frames + sample.user_depth,
                      frames + sample.user_depth + sample.kernel_depth);
  }

  absl::MutexLock lock(&mu_);
  auto proc = processes_.find(key.pid);
  if (proc == processes_.end()) return;  // a pid another pull asked for
  ++samples_;
  if (sample.flags & GSPY_SAMPLE_LABELS_TRUNCATED) ++labels_truncated_;
  key.user = RecoverUserStack(user, sample.user_sp_word, *proc->second.binary,
                              proc->second.load_bias);
  const int64_t period =
      sample.period_ns > 0 ? sample.period_ns : options_.period_ns;
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (counts_.size() >= options_.max_stacks) {
      ++dropped_;
      return;
    }
    it = counts_.emplace(std::move(key), Weight{}).first;
  }
  ++it->second.count;
  it->second.cpu_ns += period;
  cpu_ns_ += period;
  if (min_period_ns_ == 0 || period < min_period_ns_) min_period_ns_ = period;
  max_period_ns_ = std::max(max_period_ns_, period);
  periods_.Add(sample.time_ns, period);
}

int64_t CpuProfile::sample_count() const {
  absl::MutexLock lock(&mu_);
  return samples_;
}

int64_t CpuProfile::dropped_count() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

std::string CpuProfile::BuildPprof(absl::Time start, absl::Duration duration,
                                   const KernelSymbols* kernel,
                                   std::vector<std::string>* warnings) const {
  absl::MutexLock lock(&mu_);
  // Each sample weighs its own period, so the cpu values stay an estimate
  // of CPU time when gspyd changed the rate mid-profile; the profile's
  // period is then the mean, so that samples x period is that total too.
  const int64_t kept = samples_ - dropped_;
  const int64_t period = kept > 0 && cpu_ns_ > 0 ? (cpu_ns_ + kept / 2) / kept
                                                 : options_.period_ns;
  ProfileBuilder builder({{"samples", "count"}, {"cpu", "nanoseconds"}},
                         {"cpu", "nanoseconds"}, period);
  builder.SetTime(start, duration);
  builder.SetDefaultSampleType("cpu");
  if (min_period_ns_ == max_period_ns_ && max_period_ns_ > options_.period_ns) {
    builder.AddComment(absl::StrCat(
        "sampled every ", max_period_ns_, " ns of CPU time, not every ",
        options_.period_ns, " ns: gspyd backed off under load"));
  } else if (min_period_ns_ != max_period_ns_) {
    builder.AddComment(absl::StrCat(
        "sampling rate changed within this profile (gspyd backed off under "
        "load): periods from ",
        min_period_ns_, " to ", max_period_ns_,
        " ns; each sample's cpu value is its own period, the profile's "
        "period is their mean. Over time: ",
        periods_.Describe()));
  }
  if (dropped_ > 0) {
    std::string w =
        absl::StrCat(dropped_, " of ", samples_, " samples dropped: more than ",
                     options_.max_stacks, " distinct stacks");
    builder.AddComment(w);
    if (warnings) warnings->push_back(w);
  }
  if (labels_truncated_ > 0) {
    std::string w = absl::StrCat(
        labels_truncated_, " samples had labels truncated (at most ",
        GSPY_MAX_LABELS, " labels, keys of ", GSPY_LABEL_KEY_LEN,
        " bytes, values of ", GSPY_LABEL_VALUE_LEN, " bytes are read)");
    builder.AddComment(w);
    if (warnings) warnings->push_back(w);
  }

  StackLocations stacks(&builder);
  KeyFilter filter(options_.filter.get(), "running");
  const bool several_processes = processes_.size() > 1;
  std::vector<uint64_t> locations;
  std::vector<SampleLabel> labels;
  for (const auto& [key, weight] : counts_) {
    const int64_t count = weight.count;
    const GoProcess& proc = processes_.at(key.pid);
    if (!filter.Keep(proc, key.labels, "", key.user, count)) continue;
    locations.clear();
    for (uint64_t addr : key.kernel) {
      absl::string_view name =
          kernel ? kernel->Lookup(addr) : absl::string_view();
      locations.push_back(builder.SyntheticLocationId(
          name.empty() ? "[kernel]" : absl::StrCat("[kernel] ", name)));
    }
    stacks.AppendUser(proc, key.user, &locations);
    if (locations.empty()) {
      locations.push_back(builder.SyntheticLocationId("[unknown]"));
    }
    labels.clear();
    AppendSampleLabels(KeepOnly(key.labels, label_keys_),
                       options_.goroutine_ids ? key.goid : 0, proc,
                       several_processes, &labels);
    const int64_t values[] = {count, weight.cpu_ns};
    builder.AddSample(locations, values, labels);
  }
  filter.Report(options_.filter_text, "samples", &builder, warnings);
  return builder.SerializeGzip();
}

}  // namespace gspy
