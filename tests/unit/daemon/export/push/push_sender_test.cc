#include "daemon/export/push/push_sender.h"

#include <deque>

#include "gtest/gtest.h"

namespace gspy {
namespace {

// Answers each Export with the next scripted status (OK once they run out)
// and records what it was given.
class FakeExporter : public ProfileExporter {
 public:
  struct Shared {
    absl::Mutex mu;
    std::deque<absl::Status> script;
    std::vector<std::string> delivered;  // ids, in order
    int calls = 0;
  };
  explicit FakeExporter(std::shared_ptr<Shared> s) : s_(std::move(s)) {}
  std::string backend() const override { return "fake"; }
  absl::Status Export(const std::vector<std::shared_ptr<const PushProfile>>& batch,
                      absl::Duration) override {
    absl::MutexLock lock(&s_->mu);
    ++s_->calls;
    absl::Status st;
    if (!s_->script.empty()) {
      st = s_->script.front();
      s_->script.pop_front();
    }
    if (st.ok()) {
      for (const auto& p : batch) s_->delivered.push_back(p->id);
    }
    return st;
  }

 private:
  std::shared_ptr<Shared> s_;
};

std::shared_ptr<const PushProfile> Profile(const std::string& id) {
  auto p = std::make_shared<PushProfile>();
  p->id = id;
  p->pprof = "pprof";
  return p;
}

PushSenderOptions FastOptions() {
  PushSenderOptions o;
  o.backoff = {.initial = absl::Milliseconds(1), .max = absl::Milliseconds(4)};
  o.seed = 1;
  o.batch_max_profiles = 1;
  return o;
}

void WaitUntil(const std::function<bool()>& f) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!f() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(2));
  ASSERT_TRUE(f());
}

TEST(PushSenderTest, RetriesUnavailableUntilItGoesThrough) {
  auto s = std::make_shared<FakeExporter::Shared>();
  for (int i = 0; i < 3; ++i) s->script.push_back(absl::UnavailableError("down"));
  PushSender sender(std::make_unique<FakeExporter>(s), FastOptions());
  sender.Start();
  sender.Enqueue(Profile("a"));
  sender.Enqueue(Profile("b"));
  WaitUntil([&] { return sender.stats().pushed == 2; });
  sender.Stop(absl::Seconds(1));
  const PushSenderStats st = sender.stats();
  EXPECT_EQ(st.requests, 5u);
  EXPECT_EQ(st.request_errors, 3u);
  EXPECT_EQ(st.retries, 3u);
  EXPECT_EQ(st.dropped_retries_exhausted + st.dropped_rejected +
                st.dropped_queue_full + st.dropped_at_stop,
            0u);
  EXPECT_TRUE(st.last_error.empty());
  absl::MutexLock lock(&s->mu);
  EXPECT_EQ(s->delivered, (std::vector<std::string>{"a", "b"}));
}

TEST(PushSenderTest, GivesUpAfterMaxAttemptsAndGoesOn) {
  auto s = std::make_shared<FakeExporter::Shared>();
  for (int i = 0; i < 3; ++i) {
    s->script.push_back(absl::DeadlineExceededError("slow"));
  }
  PushSenderOptions o = FastOptions();
  o.max_attempts = 3;
  PushSender sender(std::make_unique<FakeExporter>(s), o);
  sender.Enqueue(Profile("lost"));
  sender.Enqueue(Profile("kept"));
  sender.Start();
  WaitUntil([&] { return sender.stats().pushed == 1; });
  sender.Stop(absl::Seconds(1));
  EXPECT_EQ(sender.stats().dropped_retries_exhausted, 1u);
  absl::MutexLock lock(&s->mu);
  EXPECT_EQ(s->delivered, (std::vector<std::string>{"kept"}));
}

TEST(PushSenderTest, RejectedIsNotRetried) {
  auto s = std::make_shared<FakeExporter::Shared>();
  s->script.push_back(absl::InvalidArgumentError("no __name__"));
  PushSender sender(std::make_unique<FakeExporter>(s), FastOptions());
  sender.Enqueue(Profile("bad"));
  sender.Enqueue(Profile("good"));
  sender.Start();
  WaitUntil([&] { return sender.stats().pushed == 1; });
  sender.Stop(absl::Seconds(1));
  const PushSenderStats st = sender.stats();
  EXPECT_EQ(st.dropped_rejected, 1u);
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.requests, 2u);
}

TEST(PushSenderTest, QueueFullIsCountedAndTheNewestKept) {
  auto s = std::make_shared<FakeExporter::Shared>();
  PushSenderOptions o = FastOptions();
  o.queue.max_profiles = 2;
  o.batch_max_profiles = 10;
  PushSender sender(std::make_unique<FakeExporter>(s), o);
  for (const char* id : {"1", "2", "3", "4", "5"}) sender.Enqueue(Profile(id));
  EXPECT_EQ(sender.stats().dropped_queue_full, 3u);
  EXPECT_EQ(sender.stats().queue_profiles, 2u);
  sender.Start();
  WaitUntil([&] { return sender.stats().pushed == 2; });
  sender.Stop(absl::Seconds(1));
  absl::MutexLock lock(&s->mu);
  EXPECT_EQ(s->delivered, (std::vector<std::string>{"4", "5"}));
}

TEST(PushSenderTest, StopDrainsThenCountsWhatIsLeft) {
  auto s = std::make_shared<FakeExporter::Shared>();
  // Down for good: the drain cannot send anything.
  for (int i = 0; i < 100000; ++i) s->script.push_back(absl::UnavailableError("down"));
  PushSenderOptions o = FastOptions();
  o.max_attempts = 0;
  PushSender sender(std::make_unique<FakeExporter>(s), o);
  sender.Start();
  for (const char* id : {"a", "b", "c"}) sender.Enqueue(Profile(id));
  const absl::Time start = absl::Now();
  sender.Stop(absl::Milliseconds(100));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(sender.stats().dropped_at_stop, 3u);
  EXPECT_EQ(sender.stats().pushed, 0u);
}

TEST(PushSenderTest, StopSendsWhatIsQueued) {
  auto s = std::make_shared<FakeExporter::Shared>();
  PushSender sender(std::make_unique<FakeExporter>(s), FastOptions());
  for (const char* id : {"a", "b", "c"}) sender.Enqueue(Profile(id));
  sender.Start();
  sender.Stop(absl::Seconds(5));
  EXPECT_EQ(sender.stats().pushed, 3u);
  EXPECT_EQ(sender.stats().dropped_at_stop, 0u);
}

TEST(RetryableExportErrorTest, Codes) {
  EXPECT_TRUE(RetryableExportError(absl::UnavailableError("")));
  EXPECT_TRUE(RetryableExportError(absl::DeadlineExceededError("")));
  EXPECT_TRUE(RetryableExportError(absl::ResourceExhaustedError("")));
  EXPECT_FALSE(RetryableExportError(absl::InvalidArgumentError("")));
  EXPECT_FALSE(RetryableExportError(absl::UnauthenticatedError("")));
  EXPECT_FALSE(RetryableExportError(absl::PermissionDeniedError("")));
}

}  // namespace
}  // namespace gspy
