#include "golang/binary/buildinfo.h"

#include <elf.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "golang/binary/byte_reader.h"

namespace gspy::gobinary_internal {
namespace {

constexpr std::string_view kMagic("\xff Go buildinf:", 14);
constexpr size_t kHeaderSize = 32;
constexpr uint8_t kFlagBigEndian = 1;
constexpr uint8_t kFlagVersionInline = 2;
constexpr uint64_t kMaxBlobBytes = 4 << 20;

// Finds the 16-byte aligned magic inside `data` (relative to `base_vaddr`).
std::optional<uint64_t> FindMagic(std::string_view data, uint64_t base_vaddr) {
  size_t pos = 0;
  while (true) {
    pos = data.find(kMagic, pos);
    if (pos == std::string_view::npos) return std::nullopt;
    if ((base_vaddr + pos) % 16 == 0) return base_vaddr + pos;
    ++pos;
  }
}

// Reads a uvarint-prefixed string at *pos in `data`.
std::optional<std::string_view> ReadVarString(std::string_view data,
                                              uint64_t* pos) {
  uint64_t len;
  if (!ReadUvarint(data, pos, &len)) return std::nullopt;
  auto s = SubView(data, *pos, len);
  if (!s) return std::nullopt;
  *pos += len;
  return s;
}

// Reads a Go string header {ptr, len} at vaddr and returns its bytes.
std::optional<std::string_view> ReadGoString(const ElfFile& elf,
                                             uint64_t vaddr) {
  auto ptr = elf.ReadPointer(vaddr);
  auto len_bytes = elf.ReadVaddr(vaddr + 8, 8);
  if (!ptr || !len_bytes) return std::nullopt;
  uint64_t len = ReadOr0<uint64_t>(*len_bytes, 0);
  if (len == 0) return std::string_view();
  if (len > elf.data().size()) return std::nullopt;
  return elf.ReadVaddr(*ptr, len);
}

// Undoes strconv.Quote for the common escapes; build settings with spaces
// (-ldflags="-s -w") are quoted.
std::string Unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') {
    return std::string(v);
  }
  std::string out;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    char c = v[i];
    if (c == '\\' && i + 2 < v.size()) {
      char n = v[++i];
      switch (n) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        default:
          out.push_back(n);
          break;
      }
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void ParseModInfo(std::string_view modinfo, BuildInfo* info) {
  // The linker wraps modinfo in 16-byte sentinels; strip them.
  if (modinfo.size() >= 33 && modinfo[modinfo.size() - 17] == '\n') {
    modinfo = modinfo.substr(16, modinfo.size() - 32);
  }
  // absl::string_view is not std::string_view in this abseil build.
  const absl::string_view text(modinfo.data(), modinfo.size());
  for (absl::string_view aline : absl::StrSplit(text, '\n')) {
    const std::string_view line(aline.data(), aline.size());
    std::vector<absl::string_view> f = absl::StrSplit(aline, '\t');
    if (f.size() >= 2 && f[0] == "path") {
      info->module_path = std::string(f[1].data(), f[1].size());
    } else if (f.size() >= 3 && f[0] == "mod") {
      info->main_version = std::string(f[2].data(), f[2].size());
    } else if (f.size() >= 2 && f[0] == "build") {
      // Keys may themselves be quoted; the value is everything after '='.
      std::string_view kv = line.substr(6);
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      std::string key = Unquote(kv.substr(0, eq));
      std::string value = Unquote(kv.substr(eq + 1));
      if (key == "CGO_ENABLED") info->cgo = value == "1";
      if (key == "GOARCH") info->goarch = value;
      info->settings.emplace_back(std::move(key), std::move(value));
    }
  }
}

absl::StatusOr<BuildInfo> ParseBuildInfo(const ElfFile& elf) {
  std::optional<uint64_t> addr;
  std::optional<std::string_view> blob;
  if (const ElfSection* s = elf.FindSection(".go.buildinfo")) {
    if (auto bytes = elf.SectionData(*s)) {
      addr = FindMagic(*bytes, s->addr);
      // Go 1.18+ keeps the strings inline, inside the section.
      if (addr) blob = bytes->substr(*addr - s->addr);
    }
  }
  if (!addr) {
    // No section headers (or a renamed section): scan writable segments.
    for (const ElfSegment& seg : elf.segments()) {
      if (seg.type != PT_LOAD || (seg.flags & PF_W) == 0) continue;
      auto bytes = elf.FileRange(seg.offset, seg.filesz);
      if (!bytes) continue;
      addr = FindMagic(*bytes, seg.vaddr);
      if (addr) break;
    }
  }
  if (!addr) return absl::NotFoundError("no Go build info");

  // Without the section, the segment from the magic on; bounded, as the
  // image reads what it is shown (module lists stay far below this).
  if (!blob) blob = elf.ViewFromVaddr(*addr, kMaxBlobBytes);
  if (!blob || blob->size() < kHeaderSize) {
    return absl::InvalidArgumentError("truncated Go build info header");
  }
  const uint8_t ptr_size = static_cast<uint8_t>((*blob)[14]);
  const uint8_t flags = static_cast<uint8_t>((*blob)[15]);
  std::string_view version, modinfo;
  if (flags & kFlagVersionInline) {
    uint64_t pos = kHeaderSize;
    auto v = ReadVarString(*blob, &pos);
    auto m = v ? ReadVarString(*blob, &pos) : std::nullopt;
    if (!v || !m) {
      return absl::InvalidArgumentError("truncated inline Go build info");
    }
    version = *v;
    modinfo = *m;
  } else {
    if (ptr_size != 8 || (flags & kFlagBigEndian)) {
      return absl::UnimplementedError(
          "Go build info with 4-byte pointers or big-endian data");
    }
    auto vptr = elf.ReadPointer(*addr + 16);
    auto mptr = elf.ReadPointer(*addr + 24);
    if (!vptr || !mptr) {
      return absl::InvalidArgumentError("bad Go build info pointers");
    }
    auto v = ReadGoString(elf, *vptr);
    auto m = ReadGoString(elf, *mptr);
    if (!v) return absl::InvalidArgumentError("bad Go build info version");
    version = *v;
    modinfo = m.value_or("");
  }
  BuildInfo info;
  info.go_version = std::string(version);
  ParseModInfo(modinfo, &info);
  return info;
}

}  // namespace gspy::gobinary_internal
