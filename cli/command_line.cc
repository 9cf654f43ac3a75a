#include "cli/command_line.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace gspy {

std::optional<std::string> CommandLine::Get(const std::string& name) const {
  auto [begin, end] = flags.equal_range(name);
  if (begin == end) return std::nullopt;
  return std::prev(end)->second;
}

std::vector<std::string> CommandLine::GetAll(const std::string& name) const {
  std::vector<std::string> out;
  auto [begin, end] = flags.equal_range(name);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args,
    const std::vector<std::string>& boolean_flags) {
  CommandLine out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.positional.insert(out.positional.end(), args.begin() + i + 1,
                            args.end());
      break;
    }
    // "-o FILE" is the one short flag.
    if (a == "-o") {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError("-o needs a file");
      }
      out.flags.emplace("o", args[++i]);
      continue;
    }
    if (!absl::StartsWith(a, "--") || a.size() == 2) {
      out.positional.push_back(a);
      continue;
    }
    std::string body = a.substr(2);
    size_t eq = body.find('=');
    if (eq != std::string::npos) {
      out.flags.emplace(body.substr(0, eq), body.substr(eq + 1));
      continue;
    }
    const bool is_bool = std::find(boolean_flags.begin(), boolean_flags.end(),
                                   body) != boolean_flags.end();
    if (is_bool) {
      out.flags.emplace(body, "true");
    } else if (i + 1 < args.size()) {
      out.flags.emplace(body, args[++i]);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", body, " needs a value"));
    }
  }
  return out;
}

}  // namespace gspy
