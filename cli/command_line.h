// The gspy command line: `gspy [--server=ADDR] COMMAND [ARGS] [--flag=value]`.
// Flags may repeat (--pid=1 --pid=2) and come before or after the command;
// both --flag=value and --flag value are accepted.
#ifndef GSPY_CLI_COMMAND_LINE_H_
#define GSPY_CLI_COMMAND_LINE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gspy {

// A flag a command accepts.
struct FlagSpec {
  std::string name;      // without dashes: "duration", "o" (for -o)
  bool boolean = false;  // takes no value: "--goroutine-ids"
};

struct CommandLine {
  std::vector<std::string> positional;  // "profile", "cpu"
  std::multimap<std::string, std::string> flags;
  // Flags given that `known` (ParseCommandLine) does not list, in order.
  // Their values are not read: whether one would follow is unknown.
  std::vector<std::string> unknown;

  // The last value of a flag, if given.
  std::optional<std::string> Get(const std::string& name) const;
  std::vector<std::string> GetAll(const std::string& name) const;
  bool Has(const std::string& name) const { return flags.count(name) > 0; }
};

// `known` lists every flag of every command; it says which take a value.
// A flag not in it lands in CommandLine::unknown, for CheckFlags to report
// with the command's own flags as suggestions. INVALID_ARGUMENT for a value
// flag at the end with no value.
absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args, const std::vector<FlagSpec>& known);

// INVALID_ARGUMENT naming the first flag given that `allowed` does not list
// ("unknown flag --durration; did you mean --duration?"); OK when none.
absl::Status CheckFlags(const CommandLine& cl,
                        const std::vector<FlagSpec>& allowed);

// The candidate closest to `name` by edit distance (insertions, deletions,
// substitutions and swaps of neighbours count 1), if it is close enough to
// be a typo of it: at most a third of `name`'s length away, at least 1.
std::optional<std::string> ClosestName(const std::string& name,
                                       const std::vector<std::string>& names);

// How a flag is typed: "--duration", "-o".
std::string FlagText(const std::string& name);

}  // namespace gspy

#endif  // GSPY_CLI_COMMAND_LINE_H_
