#include "profile/redact/keyed_hash.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"

namespace gspy {
namespace {

std::string Hex(const std::array<uint8_t, 32>& mac) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

// Mac(domain, data) is HMAC-SHA256 of domain || 0x00 || data. The reference
// is Python's hmac module with RFC 4231 test case 1's key:
//   python3 -c "import hmac; print(hmac.new(b'\x0b'*20,
//               b'Hi There\x00', 'sha256').hexdigest())"
TEST(KeyedHashTest, MatchesPythonHmac) {
  absl::StatusOr<KeyedHash> h = KeyedHash::FromKey(std::string(20, '\x0b'));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(Hex(h->Mac("Hi There", "")),
            "f67dd14688b85b4183637af0166514ef2350e0053a10255bd67ca6ad88bf9aec");
  EXPECT_EQ(h->Mac64("Hi There", ""), 0xf67dd14688b85b41u);
}

TEST(KeyedHashTest, DomainsAndKeysSeparate) {
  absl::StatusOr<KeyedHash> a = KeyedHash::FromKey(std::string(32, 'a'));
  absl::StatusOr<KeyedHash> b = KeyedHash::FromKey(std::string(32, 'b'));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Mac64("goid", "7"), a->Mac64("goid", "7"));
  EXPECT_NE(a->Mac64("goid", "7"), a->Mac64("label", "7"));
  EXPECT_NE(a->Mac64("goid", "7"), b->Mac64("goid", "7"));
}

TEST(KeyedHashTest, RefusesShortKeysAndReadsFiles) {
  EXPECT_FALSE(KeyedHash::FromKey("short").ok());
  const std::string path = ::testing::TempDir() + "/anonymize.key";
  { std::ofstream(path) << "0123456789abcdef0123456789abcdef\n"; }
  absl::StatusOr<KeyedHash> from_file = KeyedHash::FromFile(path);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  absl::StatusOr<KeyedHash> same =
      KeyedHash::FromKey("0123456789abcdef0123456789abcdef");
  EXPECT_EQ(from_file->Mac64("goid", "1"), same->Mac64("goid", "1"))
      << "the trailing newline must not be part of the key";
  { std::ofstream(path) << "tooshort\n"; }
  absl::StatusOr<KeyedHash> short_file = KeyedHash::FromFile(path);
  ASSERT_FALSE(short_file.ok());
  EXPECT_NE(short_file.status().message().find(path), std::string::npos);
  EXPECT_FALSE(KeyedHash::FromFile(path + ".missing").ok());
  std::remove(path.c_str());

  absl::StatusOr<KeyedHash> g1 = KeyedHash::Generate();
  absl::StatusOr<KeyedHash> g2 = KeyedHash::Generate();
  ASSERT_TRUE(g1.ok() && g2.ok());
  EXPECT_NE(g1->Mac64("goid", "1"), g2->Mac64("goid", "1"));
}

}  // namespace
}  // namespace gspy
