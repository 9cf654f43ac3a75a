// Reading a file at an offset with pread until done: what the readers of
// hostile files (binaries, cores) use instead of mapping them, since a
// mapped file that another process truncates kills the reader with SIGBUS.
#ifndef GSPY_BASE_PREAD_FULL_H_
#define GSPY_BASE_PREAD_FULL_H_

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace gspy {

// Reads `len` bytes at `offset` of `fd` into `out`, again after EINTR and
// short reads; false on an error or at the end of the file (a file cut
// short under the reader).
inline bool PreadFull(int fd, uint64_t offset, uint64_t len, char* out) {
  while (len > 0) {
    const ssize_t n = pread(fd, out, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    offset += static_cast<uint64_t>(n);
    len -= static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace gspy

#endif  // GSPY_BASE_PREAD_FULL_H_
