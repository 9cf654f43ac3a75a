#include "daemon/aggregation/stack_locations.h"

namespace gspy {

uint64_t StackLocations::MappingFor(const GoProcess& proc,
                                    const MemoryMapping& m) {
  auto [it, inserted] = mapping_ids_.try_emplace({proc.pid, m.start}, 0);
  if (inserted) {
    MappingInfo info;
    info.memory_start = m.start;
    info.memory_limit = m.end;
    info.file_offset = m.offset;
    info.filename = m.path;
    const bool is_exe = m.inode == proc.exe_inode && m.inode != 0;
    info.has_functions = info.has_filenames = info.has_line_numbers =
        info.has_inline_frames = is_exe;
    it->second = builder_->AddMapping(info);
  }
  return it->second;
}

void StackLocations::AppendUser(const GoProcess& proc,
                                absl::Span<const uint64_t> user,
                                std::vector<uint64_t>* locations) {
  for (size_t i = 0; i < user.size(); ++i) {
    const uint64_t addr = user[i];
    const MemoryMapping* m = FindMapping(proc.mappings, addr);
    if (m == nullptr) {
      locations->push_back(builder_->LocationId(0, addr, {}));
      continue;
    }
    frames_.clear();
    const bool return_address = i != 0;
    if (m->inode == proc.exe_inode) {
      // Return addresses point after the call: look up the call itself.
      const uint64_t pc = addr - proc.load_bias - (return_address ? 1 : 0);
      proc.binary->Symbolize(pc, &frames_);
    }
    locations->push_back(builder_->LocationId(MappingFor(proc, *m), addr,
                                              frames_, return_address));
  }
}

void AppendFunctionNames(const GoProcess& proc, absl::Span<const uint64_t> user,
                         std::vector<absl::string_view>* names) {
  std::vector<Frame> frames;
  for (size_t i = 0; i < user.size(); ++i) {
    const MemoryMapping* m = FindMapping(proc.mappings, user[i]);
    if (m == nullptr || m->inode != proc.exe_inode) continue;
    frames.clear();
    proc.binary->Symbolize(user[i] - proc.load_bias - (i == 0 ? 0 : 1),
                           &frames);
    for (const Frame& f : frames) {
      names->emplace_back(f.function.data(), f.function.size());
    }
  }
}

}  // namespace gspy
