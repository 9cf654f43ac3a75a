// libFuzzer target for the core-file reader (CoreFileMemory: the ELF header,
// program headers, notes and NT_FILE, then reads of the segments it kept)
// and for AddExecutable's program headers, on the same bytes. `gspy
// goroutines --core` opens cores users hand it: a crafted one must not
// crash it or keep it busy (the campaign's -timeout catches the latter).
// Open maps a path, so each input goes through one memfd.
// Seeds: corpus/core/ (make_seeds.py: cores laid out as the kernel writes
// them, with NT_PRSTATUS, NT_PRPSINFO, NT_AUXV and NT_FILE notes).
#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "golang/goroutines/memory_source.h"

namespace {

int CoreFd() {
  static const int fd = [] {
    const int fd = memfd_create("gspy_core_fuzz", MFD_CLOEXEC);
    if (fd < 0) abort();
    return fd;
  }();
  return fd;
}

void WriteAll(int fd, const uint8_t* data, size_t size) {
  if (ftruncate(fd, 0) != 0) abort();
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pwrite(fd, data + done, size - done, done);
    if (n <= 0) abort();
    done += static_cast<size_t>(n);
  }
}

// Reads around every PT_LOAD the input declares (at most 64), as a dump
// would: the first bytes, and a range across the end.
void ReadSegments(const gspy::MemorySource& memory, std::string_view file) {
  Elf64_Ehdr eh;
  if (file.size() < sizeof(eh)) return;
  std::memcpy(&eh, file.data(), sizeof(eh));
  bool bulk_read = false;
  for (uint32_t i = 0; i < std::min<uint32_t>(eh.e_phnum, 64); ++i) {
    const uint64_t off = eh.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr);
    if (off > file.size() || file.size() - off < sizeof(Elf64_Phdr)) break;
    Elf64_Phdr ph;
    std::memcpy(&ph, file.data() + off, sizeof(ph));
    if (ph.p_type != PT_LOAD) continue;
    // A goroutine's stack, read whole as the unwinder does (64 KiB).
    if (!bulk_read) {
      bulk_read = true;
      (void)memory.ReadAt(ph.p_vaddr, 64 << 10);
    }
    (void)memory.ReadAt(ph.p_vaddr, std::min<uint64_t>(ph.p_filesz, 4096));
    (void)memory.ReadAt(ph.p_vaddr + ph.p_filesz - 8, 16);
    (void)memory.ReadU64(ph.p_vaddr + ph.p_memsz - 8);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = CoreFd();
  WriteAll(fd, data, size);
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  absl::StatusOr<std::unique_ptr<gspy::CoreFileMemory>> core =
      gspy::CoreFileMemory::Open(path);
  if (!core.ok()) return 0;
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  for (const auto& [name, start] : (*core)->mapped_files()) {
    (void)(*core)->ReadAt(start, 64);
  }
  ReadSegments(**core, file);
  // The same bytes as the executable, moved by a PIE's bias.
  if ((*core)->AddExecutable(file, 0x555555554000).ok()) {
    ReadSegments(**core, file);
  }
  return 0;
}
