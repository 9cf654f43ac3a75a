#include "daemon/capture/capture_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class CaptureStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           absl::StrCat(
               "capture_store_test_", getpid(), "_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<CaptureStore> Open(int max_count, int64_t max_bytes) {
    std::vector<std::string> warnings;
    absl::StatusOr<std::unique_ptr<CaptureStore>> s =
        CaptureStore::Open({dir_.string(), max_count, max_bytes}, &warnings);
    EXPECT_TRUE(s.ok()) << s.status();
    warnings_ = warnings;
    return s.ok() ? *std::move(s) : nullptr;
  }

  static gspy::v1::CaptureInfo Info(int second, const std::string& rule) {
    gspy::v1::CaptureInfo info;
    const absl::Time at = absl::FromUnixSeconds(1'800'000'000 + second);
    info.set_id(CaptureId(at, "gc_pause", 42));
    info.set_unix_nanos(absl::ToUnixNanos(at));
    info.set_rule(rule);
    info.set_pid(42);
    return info;
  }

  static std::vector<std::string> Ids(const CaptureStore& s) {
    std::vector<std::string> ids;
    for (const auto& i : s.List()) ids.push_back(i.id());
    return ids;
  }

  fs::path dir_;
  std::vector<std::string> warnings_;
};

TEST_F(CaptureStoreTest, IdsSortByTime) {
  EXPECT_EQ(CaptureId(absl::FromUnixMillis(1'800'000'000'123), "cpu", 7),
            "20270115-080000.123-cpu-7");
  EXPECT_LT(CaptureId(absl::FromUnixSeconds(9), "x", 1),
            CaptureId(absl::FromUnixSeconds(10), "x", 1));
}

TEST_F(CaptureStoreTest, StoresAndReturnsFiles) {
  auto store = Open(10, 1 << 20);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<std::string>> dropped =
      store->Add(Info(1, "r"), {{"a.txt", "hello"}, {"b.pb.gz", "xyz"}});
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_TRUE(dropped->empty());
  EXPECT_EQ(store->count(), 1);
  EXPECT_EQ(store->bytes(), 8);
  const std::string id = store->List()[0].id();
  absl::StatusOr<gspy::v1::GetCaptureResponse> got = store->Get(id);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->files_size(), 2);
  EXPECT_EQ(got->files(0).name(), "a.txt");
  EXPECT_EQ(got->files(0).data(), "hello");
  EXPECT_EQ(got->info().rule(), "r");
  EXPECT_EQ(store->Get("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->Get("../etc").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CaptureStoreTest, OldestDroppedByCount) {
  auto store = Open(2, 1 << 20);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store->Add(Info(i, absl::StrCat("r", i)), {{"f", "x"}}).ok());
  }
  EXPECT_EQ(store->count(), 2);
  EXPECT_THAT(Ids(*store), ElementsAre(Info(1, "").id(), Info(2, "").id()));
  EXPECT_FALSE(fs::exists(dir_ / Info(0, "").id()));
}

TEST_F(CaptureStoreTest, OldestDroppedByBytesAndReported) {
  auto store = Open(100, 25);
  ASSERT_TRUE(store->Add(Info(0, "first"), {{"f", std::string(10, 'a')}}).ok());
  ASSERT_TRUE(
      store->Add(Info(1, "second"), {{"f", std::string(10, 'b')}}).ok());
  absl::StatusOr<std::vector<std::string>> dropped =
      store->Add(Info(2, "third"), {{"f", std::string(10, 'c')}});
  ASSERT_TRUE(dropped.ok());
  EXPECT_THAT(*dropped, ElementsAre("first"));
  EXPECT_LE(store->bytes(), 25);
  // One alone larger than the bound goes too.
  dropped = store->Add(Info(3, "huge"), {{"f", std::string(100, 'd')}});
  ASSERT_TRUE(dropped.ok());
  EXPECT_THAT(*dropped, ElementsAre("second", "third", "huge"));
  EXPECT_EQ(store->count(), 0);
}

TEST_F(CaptureStoreTest, SurvivesReopenAndCleansPartials) {
  {
    auto store = Open(10, 1 << 20);
    ASSERT_TRUE(store->Add(Info(0, "r"), {{"f", "one"}}).ok());
    ASSERT_TRUE(store->Add(Info(1, "r"), {{"f", "two"}}).ok());
  }
  // What a crash mid-capture leaves, and a stranger's directory.
  fs::create_directories(dir_ / "x.partial");
  fs::create_directories(dir_ / "stranger");
  auto store = Open(10, 1 << 20);
  EXPECT_THAT(Ids(*store), ElementsAre(Info(0, "").id(), Info(1, "").id()));
  EXPECT_EQ(store->bytes(), 6);
  EXPECT_FALSE(fs::exists(dir_ / "x.partial"));
  EXPECT_TRUE(fs::exists(dir_ / "stranger"));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_THAT(warnings_[0], HasSubstr("stranger"));
  // Tighter bounds at the next start apply at once.
  store.reset();
  store = Open(1, 1 << 20);
  EXPECT_THAT(Ids(*store), ElementsAre(Info(1, "").id()));
}

TEST_F(CaptureStoreTest, SameIdTwiceKeptApart) {
  auto store = Open(10, 1 << 20);
  ASSERT_TRUE(store->Add(Info(0, "r"), {{"f", "1"}}).ok());
  ASSERT_TRUE(store->Add(Info(0, "r"), {{"f", "2"}}).ok());
  EXPECT_THAT(Ids(*store),
              ElementsAre(Info(0, "").id(), Info(0, "").id() + "-2"));
}

TEST_F(CaptureStoreTest, RefusesNamesThatAreNotPlainFiles) {
  auto store = Open(10, 1 << 20);
  for (const char* bad : {"../x", ".hidden", "a/b", "", "capture.pb"}) {
    EXPECT_FALSE(store->Add(Info(0, "r"), {{bad, "x"}}).ok()) << bad;
  }
  EXPECT_EQ(store->count(), 0);
}

}  // namespace
}  // namespace gspy
