#include "daemon/sources/kernel/uprobe_set.h"

#include <memory>

#include "absl/status/status.h"
#include "golang/binary/go_binary.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

// The set only uses a binary's address as its key: no binary is parsed.
std::shared_ptr<const GoBinary> FakeBinary(const char* tag) {
  return std::shared_ptr<const GoBinary>(reinterpret_cast<const GoBinary*>(tag),
                                         [](const GoBinary*) {});
}

TEST(UprobeSetTest, AttachesOnFirstUserAndDetachesOnLast) {
  UprobeSet set;
  static const char kA = 'a';
  auto a = FakeBinary(&kA);
  int attaches = 0;
  auto attach = [&]() -> absl::StatusOr<UprobeSet::Links> {
    ++attaches;
    return UprobeSet::Links{};
  };
  ASSERT_TRUE(set.Acquire(a, 7, attach).ok());
  ASSERT_TRUE(set.Acquire(a, 7, attach).ok());
  EXPECT_EQ(attaches, 1);
  EXPECT_EQ(set.refs(a.get(), 7), 2);
  set.Release(a.get(), 7);
  EXPECT_EQ(set.size(), 1u);
  set.Release(a.get(), 7);
  EXPECT_EQ(set.size(), 0u);
  ASSERT_TRUE(set.Acquire(a, 7, attach).ok());
  EXPECT_EQ(attaches, 2);  // attached afresh after the last user left
}

// Two processes of one binary each get their own probes: a pull of one
// must not make the other trap.
TEST(UprobeSetTest, EachProcessOfABinaryHasItsOwnProbes) {
  UprobeSet set;
  static const char kD = 'd';
  auto d = FakeBinary(&kD);
  int attaches = 0;
  auto attach = [&]() -> absl::StatusOr<UprobeSet::Links> {
    ++attaches;
    return UprobeSet::Links{};
  };
  ASSERT_TRUE(set.Acquire(d, 10, attach).ok());
  ASSERT_TRUE(set.Acquire(d, 11, attach).ok());
  EXPECT_EQ(attaches, 2);
  EXPECT_EQ(set.size(), 2u);
  set.Release(d.get(), 10);
  EXPECT_EQ(set.refs(d.get(), 10), 0);
  EXPECT_EQ(set.refs(d.get(), 11), 1);
  set.Release(d.get(), 11);
  EXPECT_TRUE(set.empty());
}

TEST(UprobeSetTest, FailedAttachLeavesNoReference) {
  UprobeSet set;
  static const char kB = 'b';
  auto b = FakeBinary(&kB);
  absl::Status s = set.Acquire(b, 7, []() -> absl::StatusOr<UprobeSet::Links> {
    return absl::FailedPreconditionError("no runtime.gopark");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.refs(b.get(), 7), 0);
}

TEST(UprobeSetTest, AttachDetachedKeepsReferences) {
  UprobeSet set;
  static const char kC = 'c';
  auto c = FakeBinary(&kC);
  // A non-null fake link: the set only stores and hands it back here.
  auto* fake_link = reinterpret_cast<bpf_link*>(0x1);
  ASSERT_TRUE(set.Acquire(c, 7,
                          [&]() -> absl::StatusOr<UprobeSet::Links> {
                            return UprobeSet::Links{fake_link};
                          })
                  .ok());
  EXPECT_TRUE(set.attached(c.get(), 7));
  UprobeSet::Links taken = set.TakeAllLinks();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0], fake_link);
  EXPECT_FALSE(set.attached(c.get(), 7));
  EXPECT_EQ(set.refs(c.get(), 7), 1);
  int reattached = 0;
  set.AttachDetached(
      [&](const GoBinary* binary, int pid) -> absl::StatusOr<UprobeSet::Links> {
        EXPECT_EQ(binary, c.get());
        EXPECT_EQ(pid, 7);
        ++reattached;
        return UprobeSet::Links{};  // no real link to destroy later
      });
  EXPECT_EQ(reattached, 1);
  EXPECT_EQ(set.refs(c.get(), 7), 1);
}

}  // namespace
}  // namespace gspy
