#include "golang/binary/go_binary.h"

#include <elf.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "golang/binary/buildinfo.h"
#include "golang/binary/dwarf_layout.h"
#include "golang/binary/elf_file.h"
#include "golang/binary/file_image.h"
#include "golang/binary/frame_cache.h"
#include "golang/binary/go_version.h"
#include "golang/binary/inline_unwinder.h"
#include "golang/binary/layout_table.h"
#include "golang/binary/moduledata.h"
#include "golang/binary/pclntab.h"

namespace gspy {
namespace {

using gobinary_internal::ElfFile;
using gobinary_internal::Pclntab;
using gobinary_internal::RawFunc;

std::string_view GoArchFromMachine(uint16_t machine) {
  switch (machine) {
    case EM_X86_64:
      return "amd64";
    case EM_AARCH64:
      return "arm64";
    default:
      return "unknown";
  }
}

// The funcdata region from moduledata.gofunc on (inline trees), up to the end
// of the section holding it (the pclntab in recent releases) rather than the
// end of the segment, so the image reads no more than it needs.
std::optional<std::string_view> GofuncView(const ElfFile& elf,
                                           uint64_t gofunc) {
  for (const auto& s : elf.sections()) {
    if ((s.flags & SHF_ALLOC) == 0 || s.type == SHT_NOBITS) continue;
    if (gofunc < s.addr || gofunc - s.addr >= s.size) continue;
    return elf.FileRange(s.offset + (gofunc - s.addr),
                         s.size - (gofunc - s.addr));
  }
  return elf.ViewFromVaddr(gofunc);
}

class GoBinaryImpl final : public GoBinary {
 public:
  explicit GoBinaryImpl(std::unique_ptr<gobinary_internal::FileImage> image)
      : image_(std::move(image)), bytes_(image_->bytes()), cache_(bytes_) {}
  GoBinaryImpl(const GoBinaryImpl&) = delete;
  GoBinaryImpl& operator=(const GoBinaryImpl&) = delete;

  absl::Status Init();

  const BuildInfo& build_info() const override { return build_info_; }
  std::string_view goarch() const override { return goarch_; }
  bool is_pie() const override { return elf_->type() == ET_DYN; }
  const std::vector<LoadSegment>& segments() const override {
    return segments_;
  }
  const absl::StatusOr<RuntimeLayout>& runtime_layout() const override {
    return layout_;
  }
  const absl::StatusOr<BooksLayout>& books_layout() const override;
  std::optional<uint64_t> SymbolAddress(std::string_view name) const override {
    return elf_->SymbolValue(name);
  }
  bool Symbolize(uint64_t pc, std::vector<Frame>* out) const override;
  std::optional<FuncInfo> FindFunction(uint64_t pc) const override;
  std::optional<FuncInfo> FindFunctionByName(
      std::string_view name) const override;
  std::optional<int32_t> SpDelta(uint64_t pc) const override;
  size_t memory_bytes() const override {
    return sizeof(*this) + image_->resident_bytes() + cache_.memory_bytes() +
           name_index_bytes_.load(std::memory_order_relaxed);
  }
  size_t function_count() const override { return pclntab_->nfunc(); }
  std::optional<FuncInfo> FunctionAt(size_t i) const override {
    if (i >= pclntab_->nfunc()) return std::nullopt;
    auto f = pclntab_->FuncAt(static_cast<uint32_t>(i));
    if (!f) return std::nullopt;
    return Info(*f);
  }

 private:
  FuncInfo Info(const RawFunc& f) const {
    return FuncInfo{pclntab_->FuncName(f.name_off), f.entry, f.end,
                    func_ids_.has_value() && f.func_id == func_ids_->wrapper};
  }
  std::optional<RawFunc> FuncFor(uint64_t pc) const {
    auto idx = pclntab_->FindFuncIndex(pc);
    if (!idx) return std::nullopt;
    return pclntab_->FuncAt(*idx);
  }
  void ComputeLayout();

  // The file, read on demand (Open) or held (FromBytes): only the ranges
  // the parsers ask for are read. Every view points into bytes_.
  const std::unique_ptr<gobinary_internal::FileImage> image_;
  const std::string_view bytes_;
  const gobinary_internal::FrameCache cache_;
  std::optional<ElfFile> elf_;
  std::optional<Pclntab> pclntab_;
  std::string_view gofunc_;
  std::optional<gobinary_internal::FuncIds> func_ids_;
  BuildInfo build_info_;
  std::string_view goarch_;
  std::vector<LoadSegment> segments_;
  absl::StatusOr<RuntimeLayout> layout_ = absl::UnknownError("not computed");

  mutable std::once_flag books_once_;
  mutable absl::StatusOr<BooksLayout> books_ = absl::UnknownError("unset");

  // Name index for FindFunctionByName, built on first use.
  mutable std::once_flag name_index_once_;
  mutable absl::flat_hash_map<std::string_view, uint32_t> name_index_;
  mutable std::atomic<size_t> name_index_bytes_{0};
};

absl::Status GoBinaryImpl::Init() {
  auto elf = ElfFile::Parse(*image_);
  if (!elf.ok()) return elf.status();
  elf_.emplace(*std::move(elf));
  goarch_ = GoArchFromMachine(elf_->machine());
  for (const auto& seg : elf_->segments()) {
    if (seg.type != PT_LOAD) continue;
    segments_.push_back(LoadSegment{seg.vaddr, seg.offset, seg.filesz,
                                    seg.memsz, (seg.flags & PF_X) != 0});
  }

  auto bi = gobinary_internal::ParseBuildInfo(*elf_);
  auto loc = gobinary_internal::FindPclntab(*elf_);
  if (absl::IsNotFound(bi.status()) && absl::IsNotFound(loc.status())) {
    return absl::FailedPreconditionError(
        "not a Go binary: no .go.buildinfo and no pclntab");
  }
  if (!bi.ok() && !absl::IsNotFound(bi.status())) return bi.status();
  if (!loc.ok()) {
    if (absl::IsNotFound(loc.status())) {
      return absl::FailedPreconditionError("Go binary without a pclntab");
    }
    return loc.status();
  }
  if (bi.ok()) build_info_ = *std::move(bi);
  if (build_info_.goarch.empty()) build_info_.goarch = std::string(goarch_);

  auto t = Pclntab::Parse(*loc);
  if (!t.ok()) return t.status();
  pclntab_.emplace(*std::move(t));

  // Text base: moduledata.text is authoritative (Go 1.26 writes 0 into
  // pcHeader.textStart); then the header, whose PIE value may sit in a
  // relocation; then the runtime.text symbol and the .text section.
  uint64_t text = 0;
  auto md = gobinary_internal::FindModuleData(*elf_, *pclntab_);
  if (md.ok()) {
    text = md->text;
    if (auto g = GofuncView(*elf_, md->gofunc)) gofunc_ = *g;
  }
  if (text == 0) text = elf_->ReadPointer(loc->vaddr + 24).value_or(0);
  if (text == 0) text = elf_->SymbolValue("runtime.text").value_or(0);
  if (text == 0) {
    if (const auto* s = elf_->FindSection(".text")) text = s->addr;
  }
  if (text == 0) {
    return absl::InvalidArgumentError("cannot determine the text base");
  }
  pclntab_->SetTextStart(text);
  if (auto minor = GoMinorVersion(build_info_.go_version)) {
    func_ids_ = gobinary_internal::FuncIdsForMinor(*minor);
  }
  ComputeLayout();
  return absl::OkStatus();
}

void GoBinaryImpl::ComputeLayout() {
  const std::string& version = build_info_.go_version;
  const std::optional<int> minor = GoMinorVersion(version);
  absl::StatusOr<RuntimeLayout> l = absl::NotFoundError("no DWARF");
  if (elf_->FindSection(".debug_info") != nullptr ||
      elf_->FindSection(".zdebug_info") != nullptr) {
    l = LayoutFromDwarf(*image_);
  }
  if (!l.ok()) {
    std::optional<RuntimeLayout> row;
    if (minor) row = BuiltinRuntimeLayout(*minor);
    if (!row) {
      layout_ = absl::FailedPreconditionError(absl::StrCat(
          version.empty() ? "unknown Go version" : version,
          ": no DWARF and no built-in runtime layout for this Go version"));
      return;
    }
    l = *row;
  }
  l->go_version = version;
  // 1.24 replaced the labels map with a slice; DWARF types g.labels as
  // unsafe.Pointer, so the version decides.
  l->labels_layout = LabelsLayoutForMinor(minor.value_or(99));
  if (goarch_ == "amd64") l->tls_g_offset = -8;
  layout_ = *std::move(l);
}

const absl::StatusOr<BooksLayout>& GoBinaryImpl::books_layout() const {
  std::call_once(books_once_, [this] {
    const std::optional<int> minor = GoMinorVersion(build_info_.go_version);
    if (elf_->FindSection(".debug_info") != nullptr ||
        elf_->FindSection(".zdebug_info") != nullptr) {
      books_ = BooksLayoutFromDwarf(*image_);
      if (books_.ok()) return;
    }
    std::optional<BooksLayout> row;
    if (minor) row = BuiltinBooksLayout(*minor);
    if (row) {
      books_ = *row;
      return;
    }
    books_ = absl::FailedPreconditionError(absl::StrCat(
        build_info_.go_version.empty() ? "unknown Go version"
                                       : build_info_.go_version,
        ": no DWARF and no built-in books layout for this Go version"));
  });
  return books_;
}

bool GoBinaryImpl::Symbolize(uint64_t pc, std::vector<Frame>* out) const {
  if (cache_.Lookup(pc, out)) return true;
  auto f = FuncFor(pc);
  if (!f) return false;
  const size_t first = out->size();
  gobinary_internal::AppendFrames(*pclntab_, gofunc_, func_ids_, *f, pc, out);
  cache_.Insert(pc, out->data() + first, out->size() - first);
  return true;
}

std::optional<FuncInfo> GoBinaryImpl::FindFunction(uint64_t pc) const {
  auto f = FuncFor(pc);
  if (!f) return std::nullopt;
  return Info(*f);
}

std::optional<FuncInfo> GoBinaryImpl::FindFunctionByName(
    std::string_view name) const {
  std::call_once(name_index_once_, [this] {
    const uint64_t n = pclntab_->nfunc();
    name_index_.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      auto f = pclntab_->FuncAt(i);
      if (!f) continue;
      name_index_.emplace(pclntab_->FuncName(f->name_off), i);
    }
    // A flat_hash_map slot plus its control byte per bucket.
    name_index_bytes_.store(
        name_index_.capacity() *
            (sizeof(std::pair<std::string_view, uint32_t>) + 1),
        std::memory_order_relaxed);
  });
  auto it = name_index_.find(name);
  if (it == name_index_.end()) return std::nullopt;
  auto f = pclntab_->FuncAt(it->second);
  if (!f) return std::nullopt;
  return Info(*f);
}

std::optional<int32_t> GoBinaryImpl::SpDelta(uint64_t pc) const {
  auto f = FuncFor(pc);
  if (!f) return std::nullopt;
  // Marker symbols (go:textfipsstart) have no pcsp table and no frame.
  if (f->pcsp == 0) return 0;
  return pclntab_->PcValue(f->pcsp, f->entry, pc);
}

}  // namespace

const absl::StatusOr<BooksLayout>& GoBinary::books_layout() const {
  static const auto* unknown = new absl::StatusOr<BooksLayout>(
      absl::UnimplementedError("this GoBinary has no books layout"));
  return *unknown;
}

absl::StatusOr<std::unique_ptr<GoBinary>> GoBinary::Open(
    const std::string& path) {
  // Read with pread into memory gspy owns, never mmap'd: a file truncated
  // under a mapping raises SIGBUS, and a tenant can truncate its own
  // executable once the process exits.
  auto image = gobinary_internal::FileImage::Open(path);
  if (!image.ok()) return image.status();
  gobinary_internal::FileImage* file = image->get();
  auto bin = std::make_unique<GoBinaryImpl>(*std::move(image));
  absl::Status status = bin->Init();
  // No fd per cached binary: later reads reopen the path (see FileImage).
  file->CloseFile();
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat(path, ": ", status.message()));
  }
  return std::unique_ptr<GoBinary>(std::move(bin));
}

absl::StatusOr<std::unique_ptr<GoBinary>> GoBinary::FromBytes(
    std::string bytes) {
  auto bin = std::make_unique<GoBinaryImpl>(
      gobinary_internal::FileImage::FromBytes(std::move(bytes)));
  absl::Status st = bin->Init();
  if (!st.ok()) return st;
  return std::unique_ptr<GoBinary>(std::move(bin));
}

}  // namespace gspy
