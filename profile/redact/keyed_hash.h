// KeyedHash: HMAC-SHA256 under one secret key (OpenSSL's libcrypto), the
// keyed hash behind label redaction and goroutine-id anonymization. Without
// the key the outputs cannot be reversed nor the inputs guessed by trying
// them (a user id or a goid has few enough values to be brute-forced through
// a plain hash); with it they are stable, so one value maps to one token for
// the key's lifetime.
#ifndef GSPY_PROFILE_REDACT_KEYED_HASH_H_
#define GSPY_PROFILE_REDACT_KEYED_HASH_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gspy {

class KeyedHash {
 public:
  // Shorter keys are refused: HMAC-SHA256's strength is that of its key.
  static constexpr size_t kMinKeyBytes = 16;
  static constexpr size_t kMaxKeyBytes = 4096;

  // The key as given (at least kMinKeyBytes).
  static absl::StatusOr<KeyedHash> FromKey(std::string key);
  // The file's bytes, trailing whitespace (a newline) trimmed: the key a
  // deployment keeps in a Secret. Errors say which file and why.
  static absl::StatusOr<KeyedHash> FromFile(const std::string& path);
  // 32 random bytes from the system's CSPRNG: a key for this run only.
  static absl::StatusOr<KeyedHash> Generate();

  // HMAC-SHA256(key, domain || 0x00 || data). The domain keeps the hashes of
  // different kinds of values (a label value, a goid) apart.
  std::array<uint8_t, 32> Mac(absl::string_view domain,
                              absl::string_view data) const;
  // The first 8 bytes of Mac, big-endian.
  uint64_t Mac64(absl::string_view domain, absl::string_view data) const;

 private:
  explicit KeyedHash(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace gspy

#endif  // GSPY_PROFILE_REDACT_KEYED_HASH_H_
