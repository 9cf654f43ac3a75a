#include "golang/goroutines/dump_proto.h"

#include <map>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "golang/goroutines/g_struct.h"
#include "golang/goroutines/valid_utf8.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

void AddFrames(const GoBinary& binary, uint64_t link_pc, bool exact,
               uint64_t load_bias, std::vector<Frame>* scratch,
               google::protobuf::RepeatedPtrField<gspy::v1::StackFrame>* out) {
  scratch->clear();
  const std::optional<FuncInfo> f = binary.FindFunction(link_pc);
  if (!binary.Symbolize(SymbolPc(link_pc, exact), scratch) || !f) {
    gspy::v1::StackFrame* fr = out->Add();
    fr->set_pc(link_pc + load_bias);
    return;
  }
  for (const Frame& frame : *scratch) {
    gspy::v1::StackFrame* fr = out->Add();
    fr->set_function(ValidUtf8(frame.function));
    fr->set_file(ValidUtf8(frame.file));
    fr->set_line(frame.line);
    fr->set_pc(link_pc + load_bias);
    fr->set_inlined(frame.inlined);
    if (!frame.inlined) fr->set_offset(link_pc - f->entry);
  }
}

// The runtime's statuses and the API's, one to one.
constexpr std::pair<uint32_t, gspy::v1::GoroutineStatus> kStatuses[] = {
    {kGIdle, gspy::v1::GOROUTINE_STATUS_IDLE},
    {kGRunnable, gspy::v1::GOROUTINE_STATUS_RUNNABLE},
    {kGRunning, gspy::v1::GOROUTINE_STATUS_RUNNING},
    {kGSyscall, gspy::v1::GOROUTINE_STATUS_SYSCALL},
    {kGWaiting, gspy::v1::GOROUTINE_STATUS_WAITING},
    {kGDead, gspy::v1::GOROUTINE_STATUS_DEAD},
    {kGCopyStack, gspy::v1::GOROUTINE_STATUS_COPYSTACK},
    {kGPreempted, gspy::v1::GOROUTINE_STATUS_PREEMPTED},
    {kGLeaked, gspy::v1::GOROUTINE_STATUS_LEAKED},
    {kGDeadExtra, gspy::v1::GOROUTINE_STATUS_DEAD_EXTRA},
};

}  // namespace

gspy::v1::GoroutineStatus StatusToProto(uint32_t base_status) {
  for (const auto& [runtime, api] : kStatuses) {
    if (runtime == base_status) return api;
  }
  return gspy::v1::GOROUTINE_STATUS_UNSPECIFIED;
}

std::string_view GoroutineStatusText(gspy::v1::GoroutineStatus status) {
  // Go's names live in one place, g_struct.cc's StatusName.
  for (const auto& [runtime, api] : kStatuses) {
    if (api == status) return StatusName(runtime);
  }
  return "???";
}

namespace {
const LabelList kNoLabels;
}  // namespace

const google::protobuf::RepeatedPtrField<gspy::v1::Label>& GoroutineLabels(
    const gspy::v1::ProcessGoroutines& process, const gspy::v1::Goroutine& g) {
  if (g.label_set() > 0 && g.label_set() <= process.label_sets_size()) {
    return process.label_sets(g.label_set() - 1).labels();
  }
  return g.labels();
}

bool DumpToProto(const GoroutineDump& dump, const GoBinary& binary,
                 uint64_t load_bias, const DumpProtoOptions& options,
                 gspy::v1::ProcessGoroutines* out) {
  const SampleFilter* filter = options.filter;
  const int64_t max_bytes = options.max_bytes;
  // Label sets are interned by the dump: one pointer per distinct set.
  absl::flat_hash_map<const LabelList*, int> set_index;
  out->set_go_version(ValidUtf8(dump.go_version));
  out->set_system_skipped(dump.system_skipped);
  out->set_dropped(dump.dropped);
  out->set_retried(dump.retried);
  out->set_unreadable(dump.unreadable);
  // Warnings name paths and functions, bytes that need not be UTF-8 either.
  for (const std::string& w : dump.warnings) out->add_warnings(ValidUtf8(w));
  std::vector<Frame> scratch;
  std::vector<absl::string_view> names;
  int64_t total = 0, filtered = 0;
  int64_t bytes = static_cast<int64_t>(out->ByteSizeLong());
  for (const GoroutineRecord& r : dump.goroutines) {
    ++total;
    gspy::v1::Goroutine g;
    g.set_goid(static_cast<int64_t>(r.goid));
    g.set_status(StatusToProto(r.status));
    g.set_wait_reason(r.wait_reason);
    g.set_wait_nanos(r.wait_nanos);
    const LabelList& labels = r.labels != nullptr ? *r.labels : kNoLabels;
    if (!options.shared_label_sets) {
      for (const auto& [k, v] : labels) {
        gspy::v1::Label* l = g.add_labels();
        l->set_key(ValidUtf8(k));
        l->set_value(ValidUtf8(v));
      }
    }
    g.set_running(!r.stack_read);
    g.set_system(r.system);
    g.set_scan(r.scan);
    g.set_parent_goid(static_cast<int64_t>(r.parent_goid));
    if (r.stack_read) {
      for (size_t i = 0; i < r.stack.pcs.size(); ++i) {
        AddFrames(binary, r.stack.pcs[i], r.stack.exact[i], load_bias, &scratch,
                  g.mutable_frames());
      }
      if (r.stack.truncated) {
        g.set_stack_error("truncated");
      } else if (!r.stack.complete) {
        g.set_stack_error(ValidUtf8(r.stack.error));
      }
    }
    if (r.gopc != 0) {
      google::protobuf::RepeatedPtrField<gspy::v1::StackFrame> created;
      // gopc is the return address of the call to newproc: symbolize pc-1.
      AddFrames(binary, r.gopc, false, load_bias, &scratch, &created);
      // The go statement is the innermost frame at that pc.
      if (!created.empty()) *g.mutable_created_by() = created[0];
    }
    if (filter != nullptr && !filter->empty()) {
      names.clear();
      for (const gspy::v1::StackFrame& f : g.frames()) {
        names.push_back(f.function());
      }
      const std::string_view status = GoroutineStatusText(g.status());
      FilterSubject subject{labels,
                            absl::string_view(status.data(), status.size()),
                            g.wait_reason(), names};
      if (!filter->Matches(subject)) {
        ++filtered;
        continue;
      }
    }
    if (options.shared_label_sets && r.labels != nullptr) {
      auto [it, added] =
          set_index.try_emplace(r.labels.get(), out->label_sets_size() + 1);
      if (added) {
        gspy::v1::LabelSet* set = out->add_label_sets();
        for (const auto& [k, v] : *r.labels) {
          gspy::v1::Label* l = set->add_labels();
          l->set_key(ValidUtf8(k));
          l->set_value(ValidUtf8(v));
        }
        bytes += static_cast<int64_t>(set->ByteSizeLong()) + 6;
      }
      g.set_label_set(it->second);
    }
    // A field tag and a length prefix of at most 5 bytes besides.
    bytes += static_cast<int64_t>(g.ByteSizeLong()) + 6;
    if (bytes > max_bytes) {
      out->set_total(total);
      out->set_filtered_out(filtered);
      return false;
    }
    *out->add_goroutines() = std::move(g);
  }
  out->set_total(total);
  out->set_filtered_out(filtered);
  return true;
}

std::string GoroutinesPprof(
    const std::vector<const gspy::v1::ProcessGoroutines*>& processes,
    int64_t time_nanos) {
  ProfileBuilder builder({{"goroutine", "count"}}, {"goroutine", "count"}, 1);
  builder.SetTime(absl::FromUnixNanos(time_nanos), absl::ZeroDuration());
  using Key = std::tuple<int32_t, std::vector<uint64_t>,
                         std::vector<std::pair<std::string, std::string>>>;
  std::map<Key, int64_t> counts;
  const bool several = processes.size() > 1;
  for (const gspy::v1::ProcessGoroutines* p : processes) {
    const uint64_t mapping =
        builder.AddMapping({.memory_start = 0,
                            .memory_limit = ~uint64_t{0},
                            .filename = absl::StrCat("pid ", p->pid(), " (",
                                                     p->go_version(), ")")});
    for (const gspy::v1::Goroutine& g : p->goroutines()) {
      std::vector<uint64_t> locations;
      std::vector<Frame> frames;
      for (int i = 0; i < g.frames_size();) {
        // The frames of one pc (inlined first) make one location.
        frames.clear();
        const uint64_t pc = g.frames(i).pc();
        for (; i < g.frames_size() && g.frames(i).pc() == pc; ++i) {
          const gspy::v1::StackFrame& f = g.frames(i);
          frames.push_back(Frame{f.function(), f.file(),
                                 static_cast<int32_t>(f.line()), 0,
                                 f.inlined()});
        }
        locations.push_back(builder.LocationId(mapping, pc, frames));
      }
      if (locations.empty()) {
        locations.push_back(builder.SyntheticLocationId(
            g.running() ? "[running]" : "[no stack]"));
      }
      std::vector<std::pair<std::string, std::string>> labels;
      for (const gspy::v1::Label& l : GoroutineLabels(*p, g)) {
        labels.emplace_back(l.key(), l.value());
      }
      ++counts[Key{several ? p->pid() : 0, std::move(locations),
                   std::move(labels)}];
    }
  }
  for (const auto& [key, count] : counts) {
    const auto& [pid, locations, labels] = key;
    std::vector<SampleLabel> sample_labels;
    for (const auto& [k, v] : labels) {
      sample_labels.push_back(SampleLabel{.key = k, .str = v});
    }
    if (pid != 0) {
      sample_labels.push_back(
          SampleLabel{.key = "pid", .num = pid, .is_num = true});
    }
    builder.AddSample(locations, {count}, sample_labels);
  }
  return builder.SerializeGzip();
}

}  // namespace gspy
