// The pc -> frames cache in front of Symbolize: hits return exactly what was
// inserted, never a torn mix of two entries, under concurrent writers.
#include "golang/binary/frame_cache.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace gspy::gobinary_internal {
namespace {

// Frames that are a pure function of pc, with strings inside `base`.
std::vector<Frame> FramesFor(std::string_view base, uint64_t pc) {
  std::vector<Frame> v;
  const size_t n = 1 + pc % FrameCache::kMaxFrames;
  for (size_t i = 0; i < n; ++i) {
    Frame f;
    f.function = base.substr((pc + i) % 100, 1 + (pc + i) % 50);
    f.file = base.substr((pc * 7 + i) % 100, 1 + (pc * 3) % 40);
    f.line = static_cast<int32_t>(pc % 100000) + static_cast<int32_t>(i);
    f.start_line = static_cast<int32_t>(pc % 777);
    f.inlined = i + 1 < n;
    v.push_back(f);
  }
  return v;
}

bool Same(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].function.data() != b[i].function.data() ||
        a[i].function.size() != b[i].function.size() ||
        a[i].file.data() != b[i].file.data() ||
        a[i].file.size() != b[i].file.size() || a[i].line != b[i].line ||
        a[i].start_line != b[i].start_line || a[i].inlined != b[i].inlined) {
      return false;
    }
  }
  return true;
}

TEST(FrameCacheTest, HitReturnsInsertedFrames) {
  const std::string base(200, 'x');
  FrameCache cache(base);
  std::vector<Frame> out;
  EXPECT_FALSE(cache.Lookup(0x401000, &out));
  const auto want = FramesFor(base, 0x401000);
  cache.Insert(0x401000, want.data(), want.size());
  ASSERT_TRUE(cache.Lookup(0x401000, &out));
  EXPECT_TRUE(Same(out, want));
  // A different pc misses; a miss appends nothing.
  out.clear();
  EXPECT_FALSE(cache.Lookup(0x401001, &out));
  EXPECT_TRUE(out.empty());
}

// A hot set of a thousand pcs stays cached (4-way sets rarely overflow).
TEST(FrameCacheTest, HotSetStaysCached) {
  const std::string base(200, 'x');
  FrameCache cache(base);
  std::vector<uint64_t> pcs;
  for (uint64_t i = 0; i < 1000; ++i) pcs.push_back(0x401000 + i * 37);
  for (uint64_t pc : pcs) {
    auto f = FramesFor(base, pc);
    cache.Insert(pc, f.data(), f.size());
  }
  int hits = 0;
  std::vector<Frame> out;
  for (uint64_t pc : pcs) {
    out.clear();
    if (cache.Lookup(pc, &out)) {
      ++hits;
      EXPECT_TRUE(Same(out, FramesFor(base, pc)));
    }
  }
  EXPECT_GE(hits, 980);
}

TEST(FrameCacheTest, RefusesWhatItCannotStore) {
  const std::string base(200, 'x');
  FrameCache cache(base);
  std::vector<Frame> out;
  Frame outside;
  outside.function = "?";  // not inside base
  outside.file = base.substr(0, 3);
  cache.Insert(0x1234, &outside, 1);
  EXPECT_FALSE(cache.Lookup(0x1234, &out));
  std::vector<Frame> deep(FrameCache::kMaxFrames + 1, FramesFor(base, 1)[0]);
  cache.Insert(0x5678, deep.data(), deep.size());
  EXPECT_FALSE(cache.Lookup(0x5678, &out));
  auto f = FramesFor(base, 0x10);
  cache.Insert(0, f.data(), f.size());
  EXPECT_FALSE(cache.Lookup(0, &out));
}

TEST(FrameCacheTest, ConcurrentWritersNeverTearEntries) {
  const std::string base(200, 'x');
  FrameCache cache(base);
  // Many more pcs than slots, so writers constantly collide.
  constexpr uint64_t kPcs = FrameCache::kSlots * 8;
  std::atomic<int> bad{0};
  std::atomic<int> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Frame> out;
      for (int round = 0; round < 20; ++round) {
        for (uint64_t i = t; i < kPcs; i += 2) {
          const uint64_t pc = 0x400000 + i;
          out.clear();
          if (cache.Lookup(pc, &out)) {
            ++hits;
            if (!Same(out, FramesFor(base, pc))) ++bad;
          } else {
            auto f = FramesFor(base, pc);
            cache.Insert(pc, f.data(), f.size());
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(hits.load(), 0);
}

}  // namespace
}  // namespace gspy::gobinary_internal
