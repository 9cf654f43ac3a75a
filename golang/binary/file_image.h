// FileImage: the bytes of a binary, read with pread into memory gspy owns,
// never mmap'd. A file mapping raises SIGBUS when the file is truncated
// under it (an executable may be rewritten once its process exits), and a
// hostile tenant can do that at will; anonymous memory cannot be taken away.
//
// The image spans the whole file's size in an anonymous mapping, but only the
// ranges the parsers ask for (Ensure) are read into it: headers, the pclntab,
// build info and the few data words moduledata needs. The rest stays
// untouched zero pages, which cost no memory, so a 100 MB binary costs
// roughly its pclntab, not its size. Views into bytes() stay valid for the
// image's lifetime. A range whose read fails (the file was truncated since)
// is an error for the caller, never a crash.
#ifndef GSPY_GOLANG_BINARY_FILE_IMAGE_H_
#define GSPY_GOLANG_BINARY_FILE_IMAGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace gspy::gobinary_internal {

class FileImage {
 public:
  // Larger files are refused: no Go executable comes near it, and the image
  // reserves address space for the whole file.
  static constexpr uint64_t kMaxFileBytes = uint64_t{8} << 30;

  // Opens `path` (kept open to read ranges on demand). NOT_FOUND,
  // PERMISSION_DENIED, INVALID_ARGUMENT (not a regular file, too large).
  static absl::StatusOr<std::unique_ptr<FileImage>> Open(
      const std::string& path);
  // An image over bytes already in memory (owned): every range is present.
  static std::unique_ptr<FileImage> FromBytes(std::string bytes);
  // A non-owning image over `bytes`, which must outlive it.
  static std::unique_ptr<FileImage> View(std::string_view bytes);

  ~FileImage();
  FileImage(const FileImage&) = delete;
  FileImage& operator=(const FileImage&) = delete;

  // The file's address range. Only ensured ranges hold the file's bytes;
  // the rest reads as zeros.
  std::string_view bytes() const { return bytes_; }
  uint64_t size() const { return bytes_.size(); }

  // Makes [off, off+len) hold the file's bytes (reading what is missing).
  // False when the range is outside the file or the read comes up short
  // (the file was truncated or is unreadable). Thread-safe.
  bool Ensure(uint64_t off, uint64_t len) const;

  // Copies [off, off+len) into `out` without keeping it in the image (for
  // one-pass scans such as DWARF). False when the range cannot be read.
  bool Read(uint64_t off, uint64_t len, char* out) const;

  // Bytes read into the image so far (what it costs in memory).
  uint64_t resident_bytes() const;

  // Closes the file: a cache of parsed binaries must not hold an fd for
  // each. Later reads (symbols, DWARF, on demand) reopen the path and go on
  // only if it is still the same file (device, inode, size, mtime); when
  // the process is gone or the file changed, they fail. Call before the
  // image is shared between threads.
  void CloseFile();

 private:
  static constexpr uint64_t kPage = 4096;
  FileImage() = default;

  // An fd for the duration of one read: the open one, else the path
  // reopened and checked to be the same file. -1 when it cannot be.
  class ScopedFd;

  int fd_ = -1;       // -1 for in-memory or closed images
  std::string path_;  // to reopen once closed
  uint64_t dev_ = 0, ino_ = 0;
  int64_t mtime_ns_ = 0;
  std::string owned_;    // FromBytes
  void* map_ = nullptr;  // the anonymous mapping (Open)
  size_t map_size_ = 0;
  std::string_view bytes_;

  mutable absl::Mutex mu_;
  // One bit per page of the file: read into the image already.
  mutable std::vector<uint64_t> present_ ABSL_GUARDED_BY(mu_);
  mutable uint64_t resident_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace gspy::gobinary_internal

#endif  // GSPY_GOLANG_BINARY_FILE_IMAGE_H_
