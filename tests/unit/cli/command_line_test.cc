// The CLI's command-line parser and the unknown-flag check.
#include "cli/command_line.h"

#include "gtest/gtest.h"

namespace gspy {
namespace {

const std::vector<FlagSpec> kKnown = {
    {"server"}, {"pid"}, {"duration"}, {"o"}, {"goroutine-ids", true}};

TEST(CommandLineTest, RepeatedFlagsPositionalsAndBooleans) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine(
      {"--server=h:1", "profile", "cpu", "--pid=1", "--pid", "2",
       "--goroutine-ids", "-o", "x.svg", "--duration=-1s"},
      kKnown);
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->positional, (std::vector<std::string>{"profile", "cpu"}));
  EXPECT_EQ(cl->GetAll("pid"), (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(cl->Has("goroutine-ids"));
  EXPECT_EQ(cl->Get("o"), "x.svg");
  EXPECT_EQ(cl->Get("server"), "h:1");
  EXPECT_EQ(cl->Get("duration"), "-1s");
  EXPECT_TRUE(cl->unknown.empty());
  EXPECT_FALSE(ParseCommandLine({"--pid"}, kKnown).ok());
  EXPECT_FALSE(ParseCommandLine({"-o"}, kKnown).ok());
}

TEST(CommandLineTest, UnknownFlagsAreKeptAsideWithoutTheirValues) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine(
      {"targets", "--bogus=1", "--durration", "30s", "--nope"}, kKnown);
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->unknown,
            (std::vector<std::string>{"bogus", "durration", "nope"}));
  EXPECT_FALSE(cl->Has("bogus"));
  // Whether "30s" was --durration's value is unknowable; it is an argument.
  EXPECT_EQ(cl->positional, (std::vector<std::string>{"targets", "30s"}));
}

TEST(CommandLineTest, CheckFlagsSuggestsTheClosestKnownFlag) {
  absl::StatusOr<CommandLine> cl =
      ParseCommandLine({"profile", "cpu", "--durration=30s"}, kKnown);
  ASSERT_TRUE(cl.ok());
  absl::Status s = CheckFlags(*cl, kKnown);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "unknown flag --durration; did you mean --duration?");
}

TEST(CommandLineTest, CheckFlagsWithNothingCloseSuggestsNothing) {
  absl::StatusOr<CommandLine> cl =
      ParseCommandLine({"targets", "--bogus=1"}, kKnown);
  ASSERT_TRUE(cl.ok());
  absl::Status s = CheckFlags(*cl, kKnown);
  EXPECT_EQ(s.message(), "unknown flag --bogus");
}

TEST(CommandLineTest, CheckFlagsRejectsAFlagOfAnotherCommand) {
  // --pid is known to the parser (some command takes it), not to this one.
  absl::StatusOr<CommandLine> cl =
      ParseCommandLine({"targets", "--pid=1"}, kKnown);
  ASSERT_TRUE(cl.ok());
  EXPECT_TRUE(cl->unknown.empty());
  absl::Status s = CheckFlags(*cl, {{"server"}});
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "unknown flag --pid");
  EXPECT_TRUE(CheckFlags(*cl, kKnown).ok());
}

TEST(CommandLineTest, ClosestNameIsAtMostAThirdOfTheNameAway) {
  const std::vector<std::string> names = {
      "duration", "pid", "exe", "server", "goroutine-ids", "kernel"};
  EXPECT_EQ(ClosestName("durration", names), "duration");
  EXPECT_EQ(ClosestName("druation", names), "duration");  // a swap is one edit
  EXPECT_EQ(ClosestName("sever", names), "server");
  EXPECT_EQ(ClosestName("goroutine-id", names), "goroutine-ids");
  EXPECT_EQ(ClosestName("pdi", names), "pid");
  EXPECT_EQ(ClosestName("kernal", names), "kernel");
  EXPECT_EQ(ClosestName("bogus", names), std::nullopt);
  EXPECT_EQ(ClosestName("x", names), std::nullopt);
  EXPECT_EQ(ClosestName("duration-seconds", names), std::nullopt);
}

TEST(CommandLineTest, FlagText) {
  EXPECT_EQ(FlagText("o"), "-o");
  EXPECT_EQ(FlagText("duration"), "--duration");
}

}  // namespace
}  // namespace gspy
