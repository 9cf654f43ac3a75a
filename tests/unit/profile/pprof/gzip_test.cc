#include <gtest/gtest.h>

#include <string>

#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

std::string Pseudorandom(size_t n) {
  std::string s(n, '\0');
  uint64_t x = 42;
  for (char& c : s) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(x >> 56);
  }
  return s;
}

TEST(GzipTest, RoundTrip) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{3} << 20}) {
    const std::string data = Pseudorandom(n) + std::string(n, 'a');
    const std::string gz = GzipCompress(data);
    ASSERT_GE(gz.size(), 18u);  // header + trailer
    EXPECT_EQ(static_cast<uint8_t>(gz[0]), 0x1f);
    EXPECT_EQ(static_cast<uint8_t>(gz[1]), 0x8b);
    // Byte 8 (XFL) is 4 for "fastest algorithm", i.e. Z_BEST_SPEED.
    EXPECT_EQ(static_cast<uint8_t>(gz[8]), 4);
    absl::StatusOr<std::string> back = MaybeGunzip(gz);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, data) << "n=" << n;
  }
}

TEST(GzipTest, PassesThroughUncompressed) {
  absl::StatusOr<std::string> out = MaybeGunzip("plain \x1f bytes");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "plain \x1f bytes");
  EXPECT_EQ(*MaybeGunzip("\x1f"), "\x1f") << "one byte is not the magic";
}

TEST(GzipTest, RejectsTruncatedAndCorrupt) {
  const std::string gz = GzipCompress(Pseudorandom(100000));
  EXPECT_FALSE(MaybeGunzip(gz.substr(0, gz.size() / 2)).ok());
  EXPECT_FALSE(MaybeGunzip(gz.substr(0, gz.size() - 4)).ok());
  std::string flipped = gz;
  flipped[gz.size() - 6] ^= 0xff;  // CRC
  EXPECT_FALSE(MaybeGunzip(flipped).ok());
  EXPECT_FALSE(MaybeGunzip(gz + "trailing").ok());
}

TEST(GzipTest, BoundsOutput) {
  const std::string big(1 << 20, 'z');  // compresses to ~1 KiB
  const std::string gz = GzipCompress(big);
  absl::StatusOr<std::string> out = MaybeGunzip(gz, (1 << 20) - 1);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(MaybeGunzip(gz, 1 << 20).ok()) << "exactly the limit is fine";
}

TEST(GzipTest, ConcatenatedMembers) {
  const std::string gz = GzipCompress("hello ") + GzipCompress("world");
  absl::StatusOr<std::string> out = MaybeGunzip(gz);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "hello world");
}

}  // namespace
}  // namespace gspy
