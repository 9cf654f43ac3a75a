#include "golang/profiles/stack_locations.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

bool IsRuntimeName(std::string_view name, int minor) {
  return name.starts_with("runtime.") ||
         (minor >= 24 && name.starts_with("internal/runtime/"));
}

}  // namespace

uint64_t AddExecutableMapping(const GoProcess& proc, ProfileBuilder* builder) {
  MappingInfo exe;
  exe.filename = proc.exe_path;
  for (const MemoryMapping& m : proc.mappings) {
    if (m.inode != proc.exe_inode || m.inode == 0) continue;
    if (exe.memory_limit == 0 || m.start < exe.memory_start) {
      exe.memory_start = m.start;
      exe.file_offset = m.offset;
    }
    exe.memory_limit = std::max(exe.memory_limit, m.end);
  }
  if (exe.memory_limit == 0) exe.memory_limit = ~uint64_t{0};
  return builder->AddMapping(exe);
}

SampleOptions::SampleOptions(const GoProcess& proc,
                             const BucketPprofOptions& options)
    : proc_(proc), options_(options) {}

bool SampleOptions::Keep(const std::vector<uint64_t>& stk, double weight) {
  if (options_.filter == nullptr) return true;
  seen_ += weight;
  frames_.clear();
  for (uint64_t pc : stk) {
    proc_.binary->Symbolize(pc - proc_.load_bias - 1, &frames_);
  }
  functions_.clear();
  for (const Frame& f : frames_) {
    functions_.emplace_back(f.function.data(), f.function.size());
  }
  FilterSubject subject;
  subject.labels = options_.labels;
  subject.functions = functions_;
  if (!options_.filter->Matches(subject)) return false;
  kept_ += weight;
  return true;
}

void SampleOptions::AppendLabels(std::vector<SampleLabel>* labels) const {
  for (const auto& [k, v] : options_.labels) {
    labels->push_back({.key = k, .str = v});
  }
  if (options_.pid_label) {
    labels->push_back({.key = "pid", .num = proc_.pid, .is_num = true});
  }
}

void SampleOptions::Report(absl::string_view unit,
                           ProfileBuilder* builder) const {
  if (options_.filter == nullptr) return;
  builder->AddComment(absl::StrCat("filter ", options_.filter_text, " kept ",
                                   kept_, " of ", seen_, " ", unit));
}

// Each pc symbolized at pc - 1 (the call) to its innermost frame, as
// runtime.CallersFrames does for a pc followed by its implied virtual pcs.
StackLocator::Logical StackLocator::Innermost(uint64_t pc) {
  Logical l;
  l.pc = pc;
  tmp_.clear();
  const uint64_t link = pc - proc_.load_bias - 1;
  if (!proc_.binary->Symbolize(link, &tmp_) || tmp_.empty()) return l;
  l.symbolized = true;
  l.frame = tmp_[0];
  l.frame.inlined = tmp_.size() > 1;
  std::optional<FuncInfo> fn = proc_.binary->FindFunction(link);
  l.entry = fn.has_value() ? fn->entry : 0;
  return l;
}

std::vector<uint64_t> StackLocator::HeapLocations(
    const std::vector<uint64_t>& stk, int minor) {
  std::vector<Logical> frames;
  frames.reserve(stk.size());
  for (uint64_t pc : stk) frames.push_back(Innermost(pc));
  // Leading runtime frames are hidden unless that leaves nothing
  // (FuncForPC looks up pc itself).
  size_t start = 0;
  for (; start < stk.size(); ++start) {
    tmp_.clear();
    if (!proc_.binary->Symbolize(stk[start] - proc_.load_bias, &tmp_) ||
        !IsRuntimeName(tmp_[0].function, minor)) {
      break;
    }
  }
  if (start == stk.size()) start = 0;
  std::vector<uint64_t> locs =
      Walk(std::vector<Logical>(frames.begin() + start, frames.end()));
  if (locs.empty() && start != 0) locs = Walk(frames);
  return locs;
}

std::vector<uint64_t> StackLocator::CountCycleLocations(
    const std::vector<uint64_t>& stk, int minor) {
  if (minor < 23) {
    std::vector<Logical> frames;
    frames.reserve(stk.size());
    for (uint64_t pc : stk) frames.push_back(Innermost(pc));
    return Walk(frames);
  }
  // runtime.Frames.Next: a pc whose innermost frame is inlined yields its
  // outer frames too, unless the next pc of the stack is the implied
  // virtual pc of that outer frame (a logical stack already has it). The
  // virtual pc itself is not known here; the next pc stands for it when
  // its innermost frame is that outer frame of the same function body.
  std::vector<Logical> frames;
  frames.reserve(stk.size());
  std::vector<Frame> chain;
  for (size_t i = 0; i < stk.size(); ++i) {
    Logical first = Innermost(stk[i]);
    if (!first.symbolized) continue;  // no Go function: CallersFrames skips
    chain = tmp_;
    frames.push_back(first);
    if (chain.size() < 2) continue;
    Logical next;
    if (i + 1 < stk.size()) next = Innermost(stk[i + 1]);
    for (size_t j = 1; j < chain.size(); ++j) {
      if (next.symbolized && next.entry == first.entry &&
          next.frame.function == chain[j].function) {
        break;
      }
      Logical outer = first;
      outer.frame = chain[j];
      frames.push_back(outer);
    }
  }
  return Walk(frames);
}

// Groups the logical frames of one physical frame into one location, as
// appendLocsForStack's deck does; runtime.goexit is left out.
std::vector<uint64_t> StackLocator::Walk(const std::vector<Logical>& frames) {
  std::vector<uint64_t> locs;
  deck_.clear();
  deck_pc_ = 0;
  deck_entry_ = 0;
  for (const Logical& l : frames) {
    if (!l.symbolized) {
      Flush(&locs);
      locs.push_back(b_->LocationId(mapping_, l.pc, {}, true));
      continue;
    }
    if (l.frame.function == "runtime.goexit") {
      Flush(&locs);
      continue;
    }
    if (!deck_.empty() &&
        (!deck_.back().inlined || l.entry == 0 || l.entry != deck_entry_ ||
         deck_.back().function == l.frame.function)) {
      Flush(&locs);
    }
    if (deck_.empty()) {
      deck_pc_ = l.pc;
      deck_entry_ = l.entry;
    }
    deck_.push_back(l.frame);
  }
  Flush(&locs);
  return locs;
}

// The location's address is the call's pc (return address - 1), as
// runtime.Frame.PC and so runtime/pprof's Location.address have it.
void StackLocator::Flush(std::vector<uint64_t>* locs) {
  if (deck_.empty()) return;
  locs->push_back(b_->LocationId(mapping_, deck_pc_ - 1, deck_, true));
  deck_.clear();
}

}  // namespace gspy
