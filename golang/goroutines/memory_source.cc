#include "golang/goroutines/memory_source.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>

#include "absl/strings/str_cat.h"
#include "base/pread_full.h"

namespace gspy {

absl::StatusOr<std::string> MemorySource::ReadAt(uint64_t addr,
                                                 size_t size) const {
  std::string out(size, '\0');
  absl::Status s = Read(addr, absl::MakeSpan(out.data(), out.size()));
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<uint64_t> MemorySource::ReadU64(uint64_t addr) const {
  uint64_t v = 0;
  absl::Status s = Read(addr, absl::MakeSpan(reinterpret_cast<char*>(&v), 8));
  if (!s.ok()) return s;
  return v;
}

absl::Status MemorySource::ReadMany(absl::Span<const MemoryRange> ranges,
                                    std::vector<bool>* ok) const {
  ok->assign(ranges.size(), false);
  for (size_t i = 0; i < ranges.size(); ++i) {
    absl::Status s = Read(ranges[i].addr, ranges[i].out);
    if (absl::IsNotFound(s) || absl::IsPermissionDenied(s)) return s;
    (*ok)[i] = s.ok();
  }
  return absl::OkStatus();
}

absl::Status ProcessMemory::ReadMany(absl::Span<const MemoryRange> ranges,
                                     std::vector<bool>* ok) const {
  ok->assign(ranges.size(), false);
  constexpr size_t kMaxIov = 1024;  // IOV_MAX on Linux
  std::vector<iovec> local, remote;
  size_t next = 0;
  while (next < ranges.size()) {
    local.clear();
    remote.clear();
    size_t total = 0;
    for (size_t i = next; i < ranges.size() && local.size() < kMaxIov; ++i) {
      local.push_back({ranges[i].out.data(), ranges[i].out.size()});
      remote.push_back(
          {reinterpret_cast<void*>(ranges[i].addr), ranges[i].out.size()});
      total += ranges[i].out.size();
    }
    ++batched_syscalls_;
    const ssize_t n = process_vm_readv(pid_, local.data(), local.size(),
                                       remote.data(), remote.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ESRCH) {
      return absl::NotFoundError(absl::StrCat("pid ", pid_, " is gone"));
    }
    if (n < 0 && (errno == EPERM || errno == EACCES)) {
      return absl::PermissionDeniedError(
          absl::StrCat("reading the memory of pid ", pid_,
                       " needs CAP_SYS_PTRACE: ", std::strerror(errno)));
    }
    // The kernel copies the ranges in order and stops at the first it cannot
    // read: the ones before it are whole.
    size_t done = n > 0 ? static_cast<size_t>(n) : 0;
    size_t i = next;
    for (; i < next + local.size() && done >= ranges[i].out.size(); ++i) {
      done -= ranges[i].out.size();
      (*ok)[i] = true;
    }
    if (done == 0 && n == static_cast<ssize_t>(total)) {
      next = i;
      continue;
    }
    if (i < next + local.size()) {
      // The range it stopped in: read alone, which also says why.
      absl::Status s = Read(ranges[i].addr, ranges[i].out);
      if (absl::IsNotFound(s) || absl::IsPermissionDenied(s)) return s;
      (*ok)[i] = s.ok();
      ++i;
    }
    next = i;
  }
  return absl::OkStatus();
}

absl::Status ProcessMemory::Read(uint64_t addr, absl::Span<char> out) const {
  if (out.empty()) return absl::OkStatus();
  if (addr == 0 || addr + out.size() < addr) {
    return absl::OutOfRangeError(
        absl::StrCat("bad address 0x", absl::Hex(addr), " in pid ", pid_));
  }
  size_t done = 0;
  // process_vm_readv may stop at a page boundary (partial read): go on from
  // there until the range is whole or a read fails.
  while (done < out.size()) {
    iovec local{out.data() + done, out.size() - done};
    iovec remote{reinterpret_cast<void*>(addr + done), out.size() - done};
    const ssize_t n = process_vm_readv(pid_, &local, 1, &remote, 1, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    const int err = n == 0 ? EFAULT : errno;
    if (err == EINTR) continue;
    if (err == ESRCH) {
      return absl::NotFoundError(absl::StrCat("pid ", pid_, " is gone"));
    }
    if (err == EPERM || err == EACCES) {
      return absl::PermissionDeniedError(
          absl::StrCat("reading the memory of pid ", pid_,
                       " needs CAP_SYS_PTRACE: ", std::strerror(err)));
    }
    return absl::OutOfRangeError(
        absl::StrCat("pid ", pid_, ": cannot read ", out.size(), " bytes at 0x",
                     absl::Hex(addr), ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

std::string ProcessMemory::Describe() const {
  return absl::StrCat("pid ", pid_);
}

namespace {

// The most note bytes read from one core: the kernel writes a few MB (one
// NT_PRSTATUS per thread, NT_FILE); more is a crafted core.
constexpr uint64_t kMaxNoteBytes = uint64_t{64} << 20;

template <typename T>
bool ReadStruct(std::string_view data, uint64_t offset, T* out) {
  if (offset > data.size() || data.size() - offset < sizeof(T)) return false;
  std::memcpy(out, data.data() + offset, sizeof(T));
  return true;
}

// The NT_FILE note: which file is mapped where. Layout (per the kernel's
// fill_files_note): count, page size, count x {start, end, page offset},
// then count NUL-terminated names.
void ParseFileNote(std::string_view desc,
                   std::vector<std::pair<std::string, uint64_t>>* out) {
  uint64_t count = 0, page_size = 0;
  if (!ReadStruct(desc, 0, &count) || !ReadStruct(desc, 8, &page_size)) return;
  if (count > desc.size() / 24) return;  // each entry takes >= 24 bytes
  uint64_t names = 16 + count * 24;
  for (uint64_t i = 0; i < count && names < desc.size(); ++i) {
    uint64_t start = 0, page_offset = 0;
    ReadStruct(desc, 16 + i * 24, &start);
    ReadStruct(desc, 16 + i * 24 + 16, &page_offset);
    const size_t end = desc.find('\0', names);
    if (end == std::string_view::npos) return;
    std::string name(desc.substr(names, end - names));
    names = end + 1;
    if (page_offset == 0) out->emplace_back(std::move(name), start);
  }
}

// Disjoint [begin, end) ranges of a file.
class FileRanges {
 public:
  // Adds [begin, end) unless it overlaps a range already added.
  bool Claim(uint64_t begin, uint64_t end) {
    if (begin >= end) return true;  // nothing to walk
    auto next = ranges_.lower_bound(begin);
    if (next != ranges_.end() && next->first < end) return false;
    if (next != ranges_.begin() && std::prev(next)->second > begin) {
      return false;
    }
    ranges_.emplace(begin, end);
    return true;
  }

 private:
  std::map<uint64_t, uint64_t> ranges_;  // begin -> end
};

}  // namespace

absl::StatusOr<std::unique_ptr<CoreFileMemory>> CoreFileMemory::Open(
    const std::string& core_path) {
  const int fd = open(core_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat(core_path, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(core_path, ": empty"));
  }
  // Read with pread, never mmap'd: a core truncated while gspy reads it
  // (or a crafted one) must not raise SIGBUS.
  std::unique_ptr<CoreFileMemory> core(new CoreFileMemory());
  core->path_ = core_path;
  core->fd_ = fd;
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  auto read_struct = [&](uint64_t offset, auto* out) {
    return offset <= file_size && file_size - offset >= sizeof(*out) &&
           PreadFull(fd, offset, sizeof(*out), reinterpret_cast<char*>(out));
  };

  Elf64_Ehdr eh;
  if (!read_struct(0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return absl::InvalidArgumentError(
        absl::StrCat(core_path, ": not a 64-bit little-endian ELF file"));
  }
  if (eh.e_type != ET_CORE) {
    return absl::InvalidArgumentError(absl::StrCat(
        core_path, ": an ELF file but not a core (type ", eh.e_type, ")"));
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
      eh.e_phnum > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(core_path, ": bad program headers"));
  }
  FileRanges walked_notes;
  bool notes_overlap_warned = false;
  uint64_t note_bytes = 0;
  // The table in one read (at most 65535 x 56 bytes).
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  const uint64_t table = uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr);
  uint32_t whole = eh.e_phnum;
  if (eh.e_phoff > file_size || file_size - eh.e_phoff < table ||
      !PreadFull(fd, eh.e_phoff, table,
                 reinterpret_cast<char*>(phdrs.data()))) {
    whole = 0;  // find the first header that is cut off
    while (whole < eh.e_phnum &&
           read_struct(eh.e_phoff + uint64_t{whole} * sizeof(Elf64_Phdr),
                       &phdrs[whole])) {
      ++whole;
    }
  }
  for (uint32_t i = 0; i < eh.e_phnum; ++i) {
    if (i >= whole) {
      return absl::InvalidArgumentError(absl::StrCat(
          core_path, ": truncated: program header ", i, " is cut off"));
    }
    const Elf64_Phdr& ph = phdrs[i];
    if (ph.p_type == PT_NOTE) {
      if (ph.p_offset >= file_size) continue;
      const uint64_t len =
          std::min<uint64_t>(ph.p_filesz, file_size - ph.p_offset);
      // The kernel's note segments are disjoint. A crafted core can point
      // thousands of PT_NOTE headers at the same bytes, which would be
      // walked (and their NT_FILE entries kept) once per header: each note
      // byte is walked once, so the work stays linear in the file's size.
      if (!walked_notes.Claim(ph.p_offset, ph.p_offset + len)) {
        if (!notes_overlap_warned) {
          notes_overlap_warned = true;
          core->warnings_.push_back(
              absl::StrCat("the core's note segments overlap (program header ",
                           i, "); each note is read once"));
        }
        continue;
      }
      // Notes are read into memory, bounded: a real core's are a few MB.
      if (len > kMaxNoteBytes - note_bytes) {
        if (note_bytes != kMaxNoteBytes) {
          core->warnings_.push_back(absl::StrCat(
              "the core's notes exceed ", kMaxNoteBytes >> 20,
              " MiB; program header ", i, " and later notes are skipped"));
        }
        note_bytes = kMaxNoteBytes;
        continue;
      }
      note_bytes += len;
      std::string notes(len, '\0');
      if (!PreadFull(fd, ph.p_offset, len, notes.data())) {
        return absl::InvalidArgumentError(absl::StrCat(
            core_path, ": cannot read the notes of program header ", i));
      }
      const std::string_view data = notes;
      uint64_t off = 0;
      const uint64_t end = len;
      // Notes: 4-byte aligned {namesz, descsz, type, name, desc}.
      while (off + 12 <= end) {
        uint32_t hdr[3];
        ReadStruct(data, off, &hdr);
        const uint64_t name_off = off + 12;
        const uint64_t desc_off = name_off + ((uint64_t{hdr[0]} + 3) & ~3ull);
        const uint64_t next = desc_off + ((uint64_t{hdr[1]} + 3) & ~3ull);
        if (next > end || next <= off) break;
        constexpr uint32_t kNtFile = 0x46494c45;  // "FILE"
        if (hdr[2] == kNtFile) {
          ParseFileNote(data.substr(desc_off, hdr[1]), &core->mapped_files_);
        }
        off = next;
      }
      continue;
    }
    if (ph.p_type != PT_LOAD || ph.p_filesz == 0) continue;
    Segment seg;
    seg.vaddr = ph.p_vaddr;
    uint64_t avail = 0;
    if (ph.p_offset < file_size) {
      avail = std::min<uint64_t>(ph.p_filesz, file_size - ph.p_offset);
      seg.file_offset = ph.p_offset;
      seg.stored = avail;
    }
    // Only the stored bytes: past p_filesz the core did not dump the memory
    // (p_memsz is the mapping's size), which is not the same as zeros.
    seg.memsz = avail;
    if (avail < ph.p_filesz) {
      core->warnings_.push_back(absl::StrCat(
          "the core is truncated: the segment at 0x", absl::Hex(ph.p_vaddr),
          " has ", avail, " of its ", ph.p_filesz, " bytes"));
    }
    if (seg.stored != 0) core->core_segments_.push_back(seg);
  }
  SortDisjoint(&core->core_segments_);
  if (core->core_segments_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(core_path, ": the core holds no memory"));
  }
  return core;
}

absl::Status CoreFileMemory::AddExecutable(std::string_view exe,
                                           uint64_t load_bias) {
  Elf64_Ehdr eh;
  if (!ReadStruct(exe, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
      eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return absl::InvalidArgumentError("the executable is not a 64-bit ELF");
  }
  for (uint32_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!ReadStruct(exe, eh.e_phoff + uint64_t{i} * sizeof(ph), &ph)) break;
    if (ph.p_type != PT_LOAD || ph.p_offset >= exe.size()) continue;
    Segment seg;
    seg.vaddr = ph.p_vaddr + load_bias;
    seg.memsz = ph.p_memsz;
    seg.bytes = exe.substr(
        ph.p_offset, std::min<uint64_t>(ph.p_filesz, exe.size() - ph.p_offset));
    seg.stored = seg.bytes.size();
    exe_segments_.push_back(seg);
  }
  SortDisjoint(&exe_segments_);
  return absl::OkStatus();
}

void CoreFileMemory::SortDisjoint(std::vector<Segment>* segments) {
  std::stable_sort(
      segments->begin(), segments->end(),
      [](const Segment& a, const Segment& b) { return a.vaddr < b.vaddr; });
  std::vector<Segment> out;
  uint64_t covered = 0;  // the end of what `out` holds
  for (Segment s : *segments) {
    s.memsz = std::min(s.memsz, ~uint64_t{0} - s.vaddr);  // no wrap-around
    if (!out.empty() && s.vaddr < covered) {
      const uint64_t overlap = covered - s.vaddr;
      if (overlap >= s.memsz) continue;
      s.vaddr = covered;
      s.memsz -= overlap;
      const uint64_t cut = std::min<uint64_t>(overlap, s.stored);
      s.bytes.remove_prefix(std::min<uint64_t>(cut, s.bytes.size()));
      s.file_offset += cut;
      s.stored -= cut;
    }
    if (s.memsz == 0) continue;
    covered = s.vaddr + s.memsz;
    out.push_back(s);
  }
  *segments = std::move(out);
}

bool CoreFileMemory::ReadFrom(const std::vector<Segment>& segments, int fd,
                              uint64_t addr, absl::Span<char> out) {
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t a = addr + done;
    // The last segment that starts at or below `a` (sorted, disjoint).
    auto next = std::upper_bound(
        segments.begin(), segments.end(), a,
        [](uint64_t a, const Segment& s) { return a < s.vaddr; });
    if (next == segments.begin()) return false;
    const Segment* hit = &*std::prev(next);
    if (a - hit->vaddr >= hit->memsz) return false;
    const uint64_t rel = a - hit->vaddr;
    const uint64_t n = std::min<uint64_t>(out.size() - done, hit->memsz - rel);
    // Stored bytes first, then (the executable's .bss) zeros: core segments
    // have memsz == stored bytes.
    const uint64_t stored =
        rel < hit->stored ? std::min<uint64_t>(n, hit->stored - rel) : 0;
    if (stored > 0) {
      if (fd >= 0) {
        // The core may have been truncated since it was opened: a short
        // read is an error, not a crash.
        if (!PreadFull(fd, hit->file_offset + rel, stored, out.data() + done)) {
          return false;
        }
      } else {
        std::memcpy(out.data() + done, hit->bytes.data() + rel, stored);
      }
    }
    std::memset(out.data() + done + stored, 0, n - stored);
    done += n;
  }
  return true;
}

absl::Status CoreFileMemory::Read(uint64_t addr, absl::Span<char> out) const {
  if (out.empty()) return absl::OkStatus();
  // Byte by byte source choice is not needed: a value never straddles the
  // core and the executable, so try the whole range in each.
  if (ReadFrom(core_segments_, fd_, addr, out) ||
      ReadFrom(exe_segments_, -1, addr, out)) {
    return absl::OkStatus();
  }
  return absl::OutOfRangeError(absl::StrCat("core ", path_, ": no memory at 0x",
                                            absl::Hex(addr), " (", out.size(),
                                            " bytes)"));
}

std::string CoreFileMemory::Describe() const {
  return absl::StrCat("core ", path_);
}

CoreFileMemory::~CoreFileMemory() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace gspy
