#include "daemon/aggregator/cpu_profile.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/aggregator/stack_recovery.h"
#include "daemon/pprof/profile_builder.h"

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

bool CpuProfile::KeepLabel(const std::string& key) const {
  return label_keys_.empty() || label_keys_.contains(key);
}

void CpuProfile::Add(const gspy_cpu_sample& sample) {
  Key key;
  key.pid = static_cast<int>(sample.pid);
  if (options_.goroutine_ids) key.goid = sample.goid;
  for (int i = 0; i < sample.label_count && i < GSPY_MAX_LABELS; ++i) {
    const gspy_label& l = sample.labels[i];
    std::string k(l.key, std::min<size_t>(l.key_len, GSPY_LABEL_KEY_LEN));
    if (!KeepLabel(k)) continue;
    key.labels.emplace_back(
        std::move(k),
        std::string(l.value,
                    std::min<size_t>(l.value_len, GSPY_LABEL_VALUE_LEN)));
  }
  // Go <= 1.23 keeps labels in a map: order them as 1.24+'s sorted slice.
  std::sort(key.labels.begin(), key.labels.end());
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
  auto it = counts_.find(key);
  if (it != counts_.end()) {
    ++it->second;
  } else if (counts_.size() < options_.max_stacks) {
    counts_.emplace(std::move(key), 1);
  } else {
    ++dropped_;
  }
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
  ProfileBuilder builder({{"samples", "count"}, {"cpu", "nanoseconds"}},
                         {"cpu", "nanoseconds"}, options_.period_ns);
  builder.SetTime(start, duration);
  builder.SetDefaultSampleType("cpu");
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

  // One pprof mapping per mapped file of each process, made on first use.
  absl::flat_hash_map<std::pair<int, uint64_t>, uint64_t> mapping_ids;
  auto mapping_for = [&](const GoProcess& proc,
                         const MemoryMapping& m) -> uint64_t {
    auto [it, inserted] = mapping_ids.try_emplace({proc.pid, m.start}, 0);
    if (inserted) {
      MappingInfo info;
      info.memory_start = m.start;
      info.memory_limit = m.end;
      info.file_offset = m.offset;
      info.filename = m.path;
      const bool is_exe = m.inode == proc.exe_inode && m.inode != 0;
      info.has_functions = info.has_filenames = info.has_line_numbers =
          info.has_inline_frames = is_exe;
      it->second = builder.AddMapping(info);
    }
    return it->second;
  };

  const bool several_processes = processes_.size() > 1;
  std::vector<uint64_t> locations;
  std::vector<Frame> frames;
  std::vector<SampleLabel> labels;
  for (const auto& [key, count] : counts_) {
    const GoProcess& proc = processes_.at(key.pid);
    locations.clear();
    for (uint64_t addr : key.kernel) {
      absl::string_view name =
          kernel ? kernel->Lookup(addr) : absl::string_view();
      locations.push_back(builder.SyntheticLocationId(
          name.empty() ? "[kernel]" : absl::StrCat("[kernel] ", name)));
    }
    for (size_t i = 0; i < key.user.size(); ++i) {
      const uint64_t addr = key.user[i];
      const MemoryMapping* m = FindMapping(proc.mappings, addr);
      if (m == nullptr) {
        locations.push_back(builder.LocationId(0, addr, {}));
        continue;
      }
      frames.clear();
      if (m->inode == proc.exe_inode) {
        // Return addresses point after the call: look up the call itself.
        const uint64_t pc = addr - proc.load_bias - (i == 0 ? 0 : 1);
        proc.binary->Symbolize(pc, &frames);
      }
      locations.push_back(
          builder.LocationId(mapping_for(proc, *m), addr, frames));
    }
    if (locations.empty()) {
      locations.push_back(builder.SyntheticLocationId("[unknown]"));
    }
    labels.clear();
    for (const auto& [k, v] : key.labels) {
      labels.push_back({.key = k, .str = v});
    }
    if (options_.goroutine_ids && key.goid != 0) {
      labels.push_back({.key = "goid",
                        .num = static_cast<int64_t>(key.goid),
                        .is_num = true});
    }
    if (several_processes) {
      labels.push_back({.key = "pid", .num = key.pid, .is_num = true});
    }
    const int64_t values[] = {count, count * options_.period_ns};
    builder.AddSample(locations, values, labels);
  }
  return builder.SerializeGzip();
}

}  // namespace gspy
