// zlib wrappers for the pprof on-disk format (gzip, RFC 1952).
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

// zlib counts in uInt (32 bits); feed larger buffers in pieces.
constexpr size_t kMaxChunk = size_t{1} << 30;
// windowBits 15 plus 16 selects the gzip wrapper instead of zlib's.
constexpr int kGzipWindowBits = 15 + 16;

bool HasGzipMagic(std::string_view data) {
  return data.size() >= 2 && static_cast<uint8_t>(data[0]) == 0x1f &&
         static_cast<uint8_t>(data[1]) == 0x8b;
}

}  // namespace

std::string GzipCompress(std::string_view data) {
  z_stream zs{};
  // Z_BEST_SPEED: what Go's runtime/pprof uses; profiles are written often
  // and compress well even at level 1.
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, kGzipWindowBits,
                   /*memLevel=*/8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return "";
  }
  std::string out;
  out.resize(std::min<size_t>(deflateBound(&zs, static_cast<uLong>(std::min(
                                                    data.size(), kMaxChunk))),
                              kMaxChunk) +
             64);
  size_t produced = 0;
  size_t consumed = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const size_t in_chunk = std::min(data.size() - consumed, kMaxChunk);
    zs.next_in =
        reinterpret_cast<Bytef*>(const_cast<char*>(data.data())) + consumed;
    zs.avail_in = static_cast<uInt>(in_chunk);
    const bool last = consumed + in_chunk == data.size();
    if (produced == out.size()) out.resize(out.size() * 2);
    const size_t out_chunk = std::min(out.size() - produced, kMaxChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data()) + produced;
    zs.avail_out = static_cast<uInt>(out_chunk);
    rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
    consumed += in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) break;
  }
  deflateEnd(&zs);
  out.resize(rc == Z_STREAM_END ? produced : 0);
  return out;
}

absl::StatusOr<std::string> MaybeGunzip(std::string_view data,
                                        size_t max_bytes) {
  if (!HasGzipMagic(data)) return std::string(data);

  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) {
    return absl::InternalError("gunzip: inflateInit2 failed");
  }
  std::string out;
  size_t produced = 0;
  size_t consumed = 0;
  absl::Status status;
  while (true) {
    const size_t in_chunk = std::min(data.size() - consumed, kMaxChunk);
    zs.next_in =
        reinterpret_cast<Bytef*>(const_cast<char*>(data.data())) + consumed;
    zs.avail_in = static_cast<uInt>(in_chunk);
    if (produced == out.size()) {
      // Grow geometrically, but never past the limit plus one byte (the
      // extra byte is how an oversized stream is detected).
      const size_t cap = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
      const size_t want = std::max<size_t>(out.size() * 2, 64 << 10);
      if (out.size() >= cap) {
        status = absl::ResourceExhaustedError(
            absl::StrCat("gunzip: output larger than ", max_bytes, " bytes"));
        break;
      }
      out.resize(std::min(want, cap));
    }
    const size_t out_chunk = std::min(out.size() - produced, kMaxChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data()) + produced;
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    consumed += in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
    if (produced > max_bytes) {
      status = absl::ResourceExhaustedError(
          absl::StrCat("gunzip: output larger than ", max_bytes, " bytes"));
      break;
    }
    if (rc == Z_STREAM_END) {
      const std::string_view rest = data.substr(consumed);
      if (rest.empty()) break;
      // Concatenated members are one stream (RFC 1952, Go's gzip.Reader).
      if (!HasGzipMagic(rest)) {
        status = absl::DataLossError("gunzip: trailing garbage after stream");
        break;
      }
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && consumed == data.size() &&
        zs.avail_out != 0) {
      status = absl::DataLossError("gunzip: truncated stream");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      status = absl::DataLossError(absl::StrCat(
          "gunzip: ", zs.msg != nullptr ? zs.msg : "corrupt stream"));
      break;
    }
  }
  inflateEnd(&zs);
  if (!status.ok()) return status;
  out.resize(produced);
  return out;
}

}  // namespace gspy
