// Which flags each gspy command takes (cli/commands.h).
#include "cli/commands.h"

#include <map>
#include <set>

#include "gtest/gtest.h"

namespace gspy {
namespace {

// Parses `args` and checks them against the command they name.
absl::Status Check(const std::vector<std::string>& args) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine(args, AllFlags());
  if (!cl.ok()) return cl.status();
  const CommandSpec* command = FindCommand(cl->positional);
  if (command == nullptr) return absl::NotFoundError("no such command");
  return CheckCommandLine(*cl, *command);
}

TEST(CommandsTest, UnknownFlagsAreRejectedWithASuggestion) {
  absl::Status s = Check({"profile", "cpu", "--durration=30s"});
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "unknown flag --durration; did you mean --duration?");
  s = Check({"targets", "--bogus=1"});
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "unknown flag --bogus");
}

TEST(CommandsTest, FlagsOfOtherCommandsAreRejected) {
  EXPECT_TRUE(absl::IsInvalidArgument(Check({"targets", "--pid=1"})));
  EXPECT_TRUE(absl::IsInvalidArgument(Check({"gc", "--pid=1", "-o", "f"})));
  EXPECT_TRUE(absl::IsInvalidArgument(Check({"goroutines", "--duration=1s"})));
  EXPECT_TRUE(absl::IsInvalidArgument(
      Check({"profile", "wall", "--pid=1", "--system"})));
  EXPECT_TRUE(absl::IsInvalidArgument(
      Check({"profile", "block", "--pid=1", "--kernel", "-o", "b.pb.gz"})));
}

TEST(CommandsTest, EachCommandTakesItsOwnAndTheGlobalFlags) {
  EXPECT_TRUE(Check({"--server=h:1", "targets"}).ok());
  EXPECT_TRUE(Check({"targets", "--server", "h:1", "--help"}).ok());
  EXPECT_TRUE(Check({"version", "--server=h:1"}).ok());
  EXPECT_TRUE(Check({"profile", "cpu", "--pid=1", "--duration=3s",
                     "--goroutine-ids", "--kernel", "-o", "x.svg",
                     "--group-by=handler", "--labels=a,b", "--filter=x"})
                  .ok());
  EXPECT_TRUE(
      Check({"profile", "sched-latency", "--exe=/bin/x",
             "--kube-api=in-cluster", "--gspy-namespace=g", "--output=x.pb.gz"})
          .ok());
  EXPECT_TRUE(Check({"gc", "--pod=ns/p", "--duration", "5s"}).ok());
  EXPECT_TRUE(Check({"goroutines", "--pid=1", "--system", "--format=pprof",
                     "-o", "g.pb.gz", "--filter=status:waiting"})
                  .ok());
  EXPECT_TRUE(Check({"goroutines", "--core=c", "--exe=e"}).ok());
  EXPECT_TRUE(Check({"goroutines", "--watch=10s", "--interval=1s",
                     "--min-growth=5", "--min-r2=0.5", "--min-snapshots=3"})
                  .ok());
}

TEST(CommandsTest, ExtraArgumentsAreRejected) {
  absl::Status s = Check({"targets", "extra"});
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "targets: unexpected argument \"extra\"");
  EXPECT_TRUE(absl::IsInvalidArgument(Check({"profile", "cpu", "now"})));
}

TEST(CommandsTest, ViewAndDiffTakeTheirFiles) {
  EXPECT_TRUE(Check({"view", "a.pb.gz", "-o", "a.html"}).ok());
  EXPECT_TRUE(
      Check({"diff", "a.pb.gz", "b.pb.gz", "-o", "d.html", "--group-by=k"})
          .ok());
  absl::Status s = Check({"view", "-o", "a.html"});
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "view: a FILE is needed");
  EXPECT_EQ(Check({"diff", "a.pb.gz"}).message(), "diff: 2 files are needed");
  EXPECT_EQ(Check({"view", "a", "b"}).message(),
            "view: unexpected argument \"b\"");
  EXPECT_TRUE(absl::IsInvalidArgument(Check({"view", "a", "--duration=1s"})));
}

// `gspy --version` is the version command named by a flag: no positional
// argument at all, and none missing.
TEST(CommandsTest, VersionByFlagNeedsNoWord) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine({"--version"}, AllFlags());
  ASSERT_TRUE(cl.ok()) << cl.status();
  const CommandSpec* version = FindCommand({"version"});
  ASSERT_NE(version, nullptr);
  EXPECT_TRUE(CheckCommandLine(*cl, *version).ok());
}

TEST(CommandsTest, CapturesGetTakesOneId) {
  EXPECT_TRUE(Check({"captures", "list"}).ok());
  EXPECT_TRUE(
      Check({"captures", "get", "20261207-045848.957-cpu-1", "-o", "dir"})
          .ok());
  absl::Status none = Check({"captures", "get", "-o", "dir"});
  EXPECT_TRUE(absl::IsInvalidArgument(none));
  EXPECT_EQ(none.message(), "captures get: an ID is needed");
  absl::Status two = Check({"captures", "get", "a", "b"});
  EXPECT_EQ(two.message(), "captures get: unexpected argument \"b\"");
  EXPECT_TRUE(absl::IsInvalidArgument(Check({"captures", "list", "x"})));
}

TEST(CommandsTest, FindCommandNeedsEveryWord) {
  EXPECT_EQ(FindCommand({"profile"}), nullptr);
  EXPECT_EQ(FindCommand({"profile", "memory"}), nullptr);
  EXPECT_EQ(FindCommand({"nope"}), nullptr);
  ASSERT_NE(FindCommand({"profile", "block"}), nullptr);
  EXPECT_EQ(FindCommand({"profile", "block"})->words,
            (std::vector<std::string>{"profile", "block"}));
}

TEST(CommandsTest, FlagsAreDeclaredOnceWithOneArity) {
  // A flag that takes a value in one command and none in another could not
  // be parsed before the command is known.
  std::map<std::string, bool> boolean;
  for (const FlagSpec& f : GlobalFlags()) boolean[f.name] = f.boolean;
  for (const CommandSpec& c : Commands()) {
    std::set<std::string> seen;
    for (const FlagSpec& f : c.flags) {
      EXPECT_TRUE(seen.insert(f.name).second) << f.name << " twice";
      auto [it, added] = boolean.emplace(f.name, f.boolean);
      EXPECT_EQ(it->second, f.boolean) << f.name;
      for (const FlagSpec& g : GlobalFlags()) {
        EXPECT_NE(g.name, f.name) << "a command redeclares a global flag";
      }
    }
  }
}

}  // namespace
}  // namespace gspy
