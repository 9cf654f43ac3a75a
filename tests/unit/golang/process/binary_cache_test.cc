// BinaryCache's bounds: binaries no process holds go once idle or while the
// cache is over its byte budget; binaries still held stay.
#include "golang/process/binary_cache.h"

#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

// Copies of one Go program (distinct files, so distinct cache entries),
// built once with the installed toolchain from the gobinary fixture.
const std::vector<std::string>& GoCopies() {
  static const auto* copies = [] {
    auto* out = new std::vector<std::string>();
    const std::string dir =
        ::testing::TempDir() + "/binary_cache_test" + std::to_string(getpid());
    const std::string cmd = "mkdir -p '" + dir + "' && cd '" +
                            GSPY_GOBINARY_FIXTURE_DIR +
                            "/inlinefix' && GOENV=off GOFLAGS= "
                            "GOTOOLCHAIN=local CGO_ENABLED=0 go build -o '" +
                            dir + "/bin0' . >&2";
    if (std::system(cmd.c_str()) != 0) return out;
    out->push_back(dir + "/bin0");
    for (int i = 1; i < 4; ++i) {
      const std::string p = dir + "/bin" + std::to_string(i);
      if (std::system(("cp '" + dir + "/bin0' '" + p + "'").c_str()) != 0) {
        break;
      }
      out->push_back(p);
    }
    return out;
  }();
  return *copies;
}

TEST(BinaryCacheTest, DropsUnheldBinariesOnceIdle) {
  const auto& bins = GoCopies();
  ASSERT_EQ(bins.size(), 4u) << "go build of the fixture failed";
  BinaryCache cache(BinaryCache::Options{.idle = absl::Seconds(30)});
  auto held = cache.Get(bins[0], nullptr);
  ASSERT_TRUE(held.ok()) << held.status();
  for (int i = 1; i < 4; ++i) ASSERT_TRUE(cache.Get(bins[i], nullptr).ok());
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_GT(cache.bytes(), 0u);
  cache.Trim(absl::Now() + absl::Seconds(10));
  EXPECT_EQ(cache.size(), 4u);  // not idle yet
  cache.Trim(absl::Now() + absl::Seconds(31));
  EXPECT_EQ(cache.size(), 1u);  // only the one still held
  const size_t one = cache.bytes();
  EXPECT_GT(one, 0u);
  held = absl::UnknownError("released");
  cache.Trim(absl::Now() + absl::Seconds(31));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(BinaryCacheTest, ByteBudgetDropsLeastRecentlyUsedUnheld) {
  const auto& bins = GoCopies();
  ASSERT_EQ(bins.size(), 4u) << "go build of the fixture failed";
  // Measure one binary, then allow about two and a half.
  size_t each = 0;
  {
    BinaryCache probe;
    auto b = probe.Get(bins[0], nullptr);
    ASSERT_TRUE(b.ok()) << b.status();
    each = probe.bytes();
  }
  ASSERT_GT(each, 0u);
  BinaryCache cache(
      BinaryCache::Options{.max_bytes = each * 5 / 2, .idle = absl::Hours(1)});
  auto held0 = cache.Get(bins[0], nullptr);
  ASSERT_TRUE(held0.ok());
  for (int i = 1; i < 4; ++i) ASSERT_TRUE(cache.Get(bins[i], nullptr).ok());
  // Over budget, the unheld ones go oldest first (bins[1], then bins[2]);
  // bins[0] is held and bins[3] was in its caller's hands while trimming.
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_LE(cache.bytes(), each * 5 / 2);
}

TEST(BinaryCacheTest, ErrorsAreForgottenOnceIdle) {
  BinaryCache cache;
  auto r = cache.Get("/proc/self/exe", nullptr);  // a C++ binary: not Go
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(cache.size(), 1u);
  cache.Trim(absl::Now() + absl::Minutes(5));
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace gspy
