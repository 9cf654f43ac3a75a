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
  // Positional arguments after the words: the FILE of `gspy view FILE`,
  // the ID of `gspy captures get ID`. `operand` names them in the error
  // when they are missing ("a FILE is needed").
  int operands = 0;
  std::string operand = "a FILE";
};

// Accepted by every command: --server, --help, --version.
const std::vector<FlagSpec>& GlobalFlags();

// Every command, in the order usage lists them.
const std::vector<CommandSpec>& Commands();

// Every flag of every command and the global ones, for ParseCommandLine.
std::vector<FlagSpec> AllFlags();

// The command the positional arguments name, or null. A command takes no
// positional arguments after its words but its operands.
const CommandSpec* FindCommand(const std::vector<std::string>& positional);

// The command's flags and the global ones, as CheckFlags wants them.
std::vector<FlagSpec> AllowedFlags(const CommandSpec& command);

// INVALID_ARGUMENT for anything the command does not take: an unknown flag
// (with the closest known one as suggestion), a positional argument after
// the command's words and operands, or missing operands.
absl::Status CheckCommandLine(const CommandLine& cl,
                              const CommandSpec& command);

}  // namespace gspy

#endif  // GSPY_CLI_COMMANDS_H_
