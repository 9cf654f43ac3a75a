#include "base/log.h"

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

using ::testing::ElementsAre;
using ::testing::MatchesRegex;

// Captures the lines written while it lives; restores stderr and the level.
class CapturedLog {
 public:
  CapturedLog() {
    SetLogSinkForTest(
        [this](absl::string_view line) { lines_.emplace_back(line); });
  }
  ~CapturedLog() {
    SetLogSinkForTest(nullptr);
    SetLogLevel(LogSeverity::kInfo);
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::vector<std::string> lines_;
};

TEST(LogTest, PrefixIsGlogLikeWithProgramName) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::Time t =
      absl::FromCivil(absl::CivilSecond(2026, 12, 6, 7, 5, 3), utc) +
      absl::Microseconds(42);
  EXPECT_EQ(LogPrefix(LogSeverity::kWarning, t, utc, "gspyd",
                      "/work/src/k8s/pod_watcher.cc", 98),
            "W1206 07:05:03.000042 gspyd pod_watcher.cc:98] ");
  EXPECT_EQ(LogPrefix(LogSeverity::kDebug, t, utc, "gspyd", "x.cc", 1)[0], 'D');
  EXPECT_EQ(LogPrefix(LogSeverity::kInfo, t, utc, "gspyd", "x.cc", 1)[0], 'I');
  EXPECT_EQ(LogPrefix(LogSeverity::kError, t, utc, "gspyd", "x.cc", 1)[0], 'E');
}

TEST(LogTest, LineHasPrefixMessageAndNewline) {
  CapturedLog log;
  GSPY_LOG(INFO) << "listening " << 42;
  ASSERT_EQ(log.lines().size(), 1u);
  // The program is this test binary.
  EXPECT_THAT(log.lines()[0],
              MatchesRegex("I[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} "
                           "log_test log_test\\.cc:[0-9]+\\] listening 42\n"));
}

TEST(LogTest, LevelFiltersLowerSeverities) {
  CapturedLog log;
  SetLogLevel(LogSeverity::kWarning);
  GSPY_LOG(DEBUG) << "d";
  GSPY_LOG(INFO) << "i";
  GSPY_LOG(WARNING) << "w";
  GSPY_LOG(ERROR) << "e";
  SetLogLevel(LogSeverity::kDebug);
  GSPY_LOG(DEBUG) << "d2";
  ASSERT_EQ(log.lines().size(), 3u);
  EXPECT_THAT(log.lines()[0], MatchesRegex("W.* w\n"));
  EXPECT_THAT(log.lines()[1], MatchesRegex("E.* e\n"));
  EXPECT_THAT(log.lines()[2], MatchesRegex("D.* d2\n"));
}

TEST(LogTest, DisabledMessageIsNotFormatted) {
  CapturedLog log;
  int evaluated = 0;
  auto expensive = [&evaluated] {
    ++evaluated;
    return std::string("x");
  };
  GSPY_LOG(DEBUG) << expensive();  // below the default level, info
  EXPECT_EQ(evaluated, 0);
  GSPY_LOG(INFO) << expensive();
  EXPECT_EQ(evaluated, 1);
  EXPECT_EQ(log.lines().size(), 1u);
}

TEST(LogTest, MacroIsOneStatement) {
  CapturedLog log;
  // An unbraced if/else around GSPY_LOG must bind as written.
  if (log.lines().empty())
    GSPY_LOG(INFO) << "then";
  else
    GSPY_LOG(INFO) << "else";
  ASSERT_EQ(log.lines().size(), 1u);
  EXPECT_THAT(log.lines()[0], MatchesRegex(".* then\n"));
}

TEST(LogTest, PlainLinesIgnoreLevelAndPrefix) {
  CapturedLog log;
  SetLogLevel(LogSeverity::kError);
  LogPlain("gspyd: listening on 127.0.0.1:7070");
  EXPECT_THAT(log.lines(), ElementsAre("gspyd: listening on 127.0.0.1:7070\n"));
}

TEST(LogTest, ParseSeverity) {
  EXPECT_EQ(*ParseLogSeverity("debug"), LogSeverity::kDebug);
  EXPECT_EQ(*ParseLogSeverity("INFO"), LogSeverity::kInfo);
  EXPECT_EQ(*ParseLogSeverity("Warning"), LogSeverity::kWarning);
  EXPECT_EQ(*ParseLogSeverity("error"), LogSeverity::kError);
  EXPECT_FALSE(ParseLogSeverity("verbose").ok());
  EXPECT_FALSE(ParseLogSeverity("").ok());
  for (LogSeverity s : {LogSeverity::kDebug, LogSeverity::kInfo,
                        LogSeverity::kWarning, LogSeverity::kError}) {
    EXPECT_EQ(*ParseLogSeverity(LogSeverityName(s)), s);
  }
}

}  // namespace
}  // namespace gspy
