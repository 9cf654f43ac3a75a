// The CLI's command-line parser.
#include "cli/command_line.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(CommandLineTest, RepeatedFlagsPositionalsAndBooleans) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine(
      {"--server=h:1", "profile", "cpu", "--pid=1", "--pid", "2",
       "--goroutine-ids", "-o", "x.svg", "--duration=-1s"},
      {"goroutine-ids"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->positional, (std::vector<std::string>{"profile", "cpu"}));
  EXPECT_EQ(cl->GetAll("pid"), (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(cl->Has("goroutine-ids"));
  EXPECT_EQ(cl->Get("o"), "x.svg");
  EXPECT_EQ(cl->Get("server"), "h:1");
  EXPECT_EQ(cl->Get("duration"), "-1s");
  EXPECT_FALSE(ParseCommandLine({"--pid"}, {}).ok());
  EXPECT_FALSE(ParseCommandLine({"-o"}, {}).ok());
}

}  // namespace
}  // namespace gspy
