#include "cli/command_line.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

const FlagSpec* FindFlag(const std::vector<FlagSpec>& flags,
                         const std::string& name) {
  for (const FlagSpec& f : flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Optimal string alignment distance: Levenshtein plus a swap of two
// neighbouring characters as one edit ("--druation").
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

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
    const std::vector<std::string>& args, const std::vector<FlagSpec>& known) {
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
    const size_t eq = body.find('=');
    const std::string name = body.substr(0, eq);
    const FlagSpec* spec = FindFlag(known, name);
    if (spec == nullptr) {
      out.unknown.push_back(name);
      continue;
    }
    if (eq != std::string::npos) {
      out.flags.emplace(name, body.substr(eq + 1));
    } else if (spec->boolean) {
      out.flags.emplace(name, "true");
    } else if (i + 1 < args.size()) {
      out.flags.emplace(name, args[++i]);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value"));
    }
  }
  return out;
}

std::string FlagText(const std::string& name) {
  return absl::StrCat(name.size() == 1 ? "-" : "--", name);
}

std::optional<std::string> ClosestName(const std::string& name,
                                       const std::vector<std::string>& names) {
  const size_t limit = std::max<size_t>(1, name.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const std::string& n : names) {
    const size_t d = EditDistance(name, n);
    if (d < best_distance) {
      best = n;
      best_distance = d;
    }
  }
  return best;
}

absl::Status CheckFlags(const CommandLine& cl,
                        const std::vector<FlagSpec>& allowed) {
  std::vector<std::string> names;
  for (const FlagSpec& f : allowed) names.push_back(f.name);
  // Unknown to every command, or known to some but not to this one.
  std::vector<std::string> given = cl.unknown;
  for (const auto& [name, value] : cl.flags) {
    if (FindFlag(allowed, name) == nullptr) given.push_back(name);
  }
  for (const std::string& name : given) {
    if (FindFlag(allowed, name) != nullptr) continue;
    std::string message = absl::StrCat("unknown flag ", FlagText(name));
    if (std::optional<std::string> near = ClosestName(name, names)) {
      absl::StrAppend(&message, "; did you mean ", FlagText(*near), "?");
    }
    return absl::InvalidArgumentError(message);
  }
  return absl::OkStatus();
}

}  // namespace gspy
