#include "profile/redact/keyed_hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fstream>
#include <iterator>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace gspy {

absl::StatusOr<KeyedHash> KeyedHash::FromKey(std::string key) {
  if (key.size() < kMinKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the anonymization key has ", key.size(),
                     " bytes; at least ", kMinKeyBytes, " are needed"));
  }
  if (key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the anonymization key has ", key.size(),
                     " bytes; at most ", kMaxKeyBytes, " are allowed"));
  }
  return KeyedHash(std::move(key));
}

absl::StatusOr<KeyedHash> KeyedHash::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the anonymization key file ", path));
  }
  // One byte more than allowed tells a too-long file from a full one.
  std::string key(kMaxKeyBytes + 1, '\0');
  in.read(key.data(), static_cast<std::streamsize>(key.size()));
  key.resize(static_cast<size_t>(in.gcount()));
  while (!key.empty() && absl::ascii_isspace(key.back())) key.pop_back();
  absl::StatusOr<KeyedHash> hash = FromKey(std::move(key));
  if (!hash.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", hash.status().message()));
  }
  return hash;
}

absl::StatusOr<KeyedHash> KeyedHash::Generate() {
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()),
                 static_cast<int>(key.size())) != 1) {
    return absl::InternalError(
        "cannot generate an anonymization key: RAND_bytes failed");
  }
  return KeyedHash(std::move(key));
}

std::array<uint8_t, 32> KeyedHash::Mac(absl::string_view domain,
                                       absl::string_view data) const {
  std::string message = absl::StrCat(domain, absl::string_view("\0", 1), data);
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       out.data(), &len);
  return out;
}

uint64_t KeyedHash::Mac64(absl::string_view domain,
                          absl::string_view data) const {
  const std::array<uint8_t, 32> mac = Mac(domain, data);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | mac[i];
  return v;
}

}  // namespace gspy
