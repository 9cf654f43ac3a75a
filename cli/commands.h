// gspy's commands and the flags each accepts: the one list the parser, the
// unknown-flag check and the tests read.
#ifndef GSPY_CLI_COMMANDS_H_
#define GSPY_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli/command_line.h"

namespace gspy {

struct CommandSpec {
  std::vector<std::string> words;  // {"profile", "cpu"}
  std::vector<FlagSpec> flags;     // its own; GlobalFlags() come on top
  int args = 0;  // positional arguments after the words (captures get ID)
};

// Accepted by every command: --server, --help, --version.
const std::vector<FlagSpec>& GlobalFlags();

// Every command, in the order usage lists them.
const std::vector<CommandSpec>& Commands();

// Every flag of every command and the global ones, for ParseCommandLine.
std::vector<FlagSpec> AllFlags();

// The command the positional arguments name, or null. A command takes
// `args` positional arguments after its words.
const CommandSpec* FindCommand(const std::vector<std::string>& positional);

// The command's flags and the global ones, as CheckFlags wants them.
std::vector<FlagSpec> AllowedFlags(const CommandSpec& command);

// INVALID_ARGUMENT for anything the command does not take: an unknown flag
// (with the closest known one as suggestion) or a positional argument after
// the command's words.
absl::Status CheckCommandLine(const CommandLine& cl,
                              const CommandSpec& command);

}  // namespace gspy

#endif  // GSPY_CLI_COMMANDS_H_
