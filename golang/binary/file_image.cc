#include "golang/binary/file_image.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/pread_full.h"

namespace gspy::gobinary_internal {
namespace {

// PreadFull, with no file (an image made from bytes) holding nothing.
bool ReadRange(int fd, uint64_t off, uint64_t len, char* out) {
  if (fd < 0) return len == 0;
  return PreadFull(fd, off, len, out);
}

}  // namespace

class FileImage::ScopedFd {
 public:
  explicit ScopedFd(const FileImage& image) : fd_(image.fd_) {
    if (fd_ >= 0 || image.path_.empty()) return;
    const int fd = open(image.path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_dev) != image.dev_ ||
        static_cast<uint64_t>(st.st_ino) != image.ino_ ||
        static_cast<uint64_t>(st.st_size) != image.size() ||
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                st.st_mtim.tv_nsec !=
            image.mtime_ns_) {
      close(fd);
      return;
    }
    fd_ = fd;
    owned_ = true;
  }
  ~ScopedFd() {
    if (owned_) close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
};

void FileImage::CloseFile() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

absl::StatusOr<std::unique_ptr<FileImage>> FileImage::Open(
    const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string msg = absl::StrCat(path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::PermissionDeniedError(msg);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file"));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > kMaxFileBytes) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", size, " bytes; executables over ",
                     kMaxFileBytes >> 30, " GiB are not read"));
  }
  std::unique_ptr<FileImage> image(new FileImage());
  image->fd_ = fd;
  image->path_ = path;
  image->dev_ = static_cast<uint64_t>(st.st_dev);
  image->ino_ = static_cast<uint64_t>(st.st_ino);
  image->mtime_ns_ = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                     st.st_mtim.tv_nsec;
  if (size == 0) return image;
  // Address space only: pages become memory when a range is read into them.
  void* map = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED) {
    return absl::ResourceExhaustedError(absl::StrCat(
        path, ": reserving ", size, " bytes: ", std::strerror(errno)));
  }
  image->map_ = map;
  image->map_size_ = size;
  image->bytes_ = std::string_view(static_cast<const char*>(map), size);
  absl::MutexLock lock(&image->mu_);
  image->present_.assign((size + kPage * 64 - 1) / (kPage * 64), 0);
  return image;
}

std::unique_ptr<FileImage> FileImage::FromBytes(std::string bytes) {
  std::unique_ptr<FileImage> image(new FileImage());
  image->owned_ = std::move(bytes);
  image->bytes_ = image->owned_;
  return image;
}

std::unique_ptr<FileImage> FileImage::View(std::string_view bytes) {
  std::unique_ptr<FileImage> image(new FileImage());
  image->bytes_ = bytes;
  return image;
}

FileImage::~FileImage() {
  if (map_ != nullptr) munmap(map_, map_size_);
  if (fd_ >= 0) close(fd_);
}

bool FileImage::Ensure(uint64_t off, uint64_t len) const {
  if (off > size() || size() - off < len) return false;
  if (map_ == nullptr || len == 0) return true;  // in memory already
  const uint64_t first = off / kPage;
  const uint64_t last = (off + len - 1) / kPage;
  auto bit = [&](uint64_t p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return (present_[p / 64] >> (p % 64)) & 1;
  };
  absl::MutexLock lock(&mu_);
  std::optional<ScopedFd> fd;  // opened at the first missing page
  uint64_t p = first;
  while (p <= last) {
    if (bit(p)) {
      ++p;
      continue;
    }
    uint64_t q = p;  // [p, q] is a run of missing pages
    while (q + 1 <= last && !bit(q + 1)) ++q;
    const uint64_t from = p * kPage;
    const uint64_t to = std::min<uint64_t>((q + 1) * kPage, size());
    if (!fd) fd.emplace(*this);
    if (!ReadRange(fd->get(), from, to - from,
                   static_cast<char*>(map_) + from)) {
      // Whatever was read stays unmarked and is read again next time.
      return false;
    }
    for (uint64_t i = p; i <= q; ++i)
      present_[i / 64] |= uint64_t{1} << (i % 64);
    resident_ += to - from;
    p = q + 1;
  }
  return true;
}

bool FileImage::Read(uint64_t off, uint64_t len, char* out) const {
  if (off > size() || size() - off < len) return false;
  if (map_ == nullptr) {
    std::memcpy(out, bytes_.data() + off, len);
    return true;
  }
  ScopedFd fd(*this);
  return ReadRange(fd.get(), off, len, out);
}

uint64_t FileImage::resident_bytes() const {
  if (map_ == nullptr) return bytes_.size();
  absl::MutexLock lock(&mu_);
  return resident_;
}

}  // namespace gspy::gobinary_internal
