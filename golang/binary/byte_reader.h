// Bounds-checked little-endian reads from a byte span. Every parser in this
// library reads hostile files, so no raw pointer arithmetic happens outside
// these helpers: a read past the end returns false / nullopt instead.
#ifndef GSPY_GOLANG_BINARY_BYTE_READER_H_
#define GSPY_GOLANG_BINARY_BYTE_READER_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace gspy::gobinary_internal {

// Reads a T (trivially copyable, little-endian host assumed: gspy only runs
// on amd64/arm64 Linux) at `off` in `data`.
template <typename T>
inline std::optional<T> ReadAt(std::string_view data, uint64_t off) {
  if (off > data.size() || data.size() - off < sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, data.data() + off, sizeof(T));
  return v;
}

// Same, but returns 0 when out of bounds; for hot paths where the caller has
// already validated the range and an out-of-range value cannot crash.
template <typename T>
inline T ReadOr0(std::string_view data, uint64_t off) {
  return ReadAt<T>(data, off).value_or(T{});
}

// Returns data[off, off+len) or nullopt when not fully inside.
inline std::optional<std::string_view> SubView(std::string_view data,
                                               uint64_t off, uint64_t len) {
  if (off > data.size() || data.size() - off < len) return std::nullopt;
  return data.substr(off, len);
}

// The NUL-terminated string starting at `off`, or nullopt when `off` is out
// of range or there is no NUL before the end of `data`.
inline std::optional<std::string_view> CStringAt(std::string_view data,
                                                 uint64_t off) {
  if (off >= data.size()) return std::nullopt;
  const char* start = data.data() + off;
  const void* nul = std::memchr(start, '\0', data.size() - off);
  if (nul == nullptr) return std::nullopt;
  return std::string_view(start, static_cast<const char*>(nul) - start);
}

// Decodes a uvarint at *pos, advancing it. Fails on overrun or > 10 bytes.
inline bool ReadUvarint(std::string_view data, uint64_t* pos, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= data.size()) return false;
    uint8_t b = static_cast<uint8_t>(data[*pos]);
    ++*pos;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

}  // namespace gspy::gobinary_internal

#endif  // GSPY_GOLANG_BINARY_BYTE_READER_H_
