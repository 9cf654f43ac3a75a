// The gspy command line: `gspy [--server=ADDR] COMMAND [ARGS] [--flag=value]`.
// Flags may repeat (--pid=1 --pid=2) and come before or after the command;
// both --flag=value and --flag value are accepted.
#ifndef GSPY_CLI_COMMAND_LINE_H_
#define GSPY_CLI_COMMAND_LINE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gspy {

struct CommandLine {
  std::vector<std::string> positional;  // "profile", "cpu"
  std::multimap<std::string, std::string> flags;

  // The last value of a flag, if given.
  std::optional<std::string> Get(const std::string& name) const;
  std::vector<std::string> GetAll(const std::string& name) const;
  bool Has(const std::string& name) const { return flags.count(name) > 0; }
};

// `boolean_flags` take no value ("--goroutine-ids").
absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args,
    const std::vector<std::string>& boolean_flags);

}  // namespace gspy

#endif  // GSPY_CLI_COMMAND_LINE_H_
