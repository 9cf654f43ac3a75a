#include "cli/commands.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gspy {
namespace {

// Which processes: every command that reads processes through gspyd.
const std::vector<FlagSpec> kSelectorFlags = {
    {"pid"}, {"exe"}, {"pod"}, {"namespace"}, {"selector"}};

std::vector<FlagSpec> Concat(std::vector<FlagSpec> a,
                             const std::vector<FlagSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<CommandSpec> MakeCommands() {
  const std::vector<FlagSpec> profile =
      Concat(kSelectorFlags, {{"duration"},
                              {"group-by"},
                              {"labels"},
                              {"filter"},
                              {"goroutine-ids", true},
                              {"o"},
                              {"output"},
                              {"kube-api"},
                              {"kube-token-file"},
                              {"kube-ca-file"},
                              {"gspy-namespace"},
                              {"gspy-selector"}});
  std::vector<CommandSpec> out = {
      {{"targets"}, {}},
      {{"version"}, {}},
  };
  // Render pprof files, no gspyd: one file, or a base and a new one.
  const std::vector<FlagSpec> render = {
      {"o"}, {"output"}, {"group-by"}, {"sample-index"}};
  out.push_back({{"view"}, render, 1});
  // --widths=base: draw the base's shape, to see what shrank or went away.
  out.push_back({{"diff"}, Concat(render, {{"widths"}}), 2});
  // Kernel frames are for CPU samples only: a waiting goroutine is parked
  // in user space.
  out.push_back({{"profile", "cpu"}, Concat(profile, {{"kernel", true}})});
  // --exact: the uprobes instead of sampled goroutine states.
  // --source=runtime (block only): the program's own block profile, read
  // here from the runtime's buckets like heap and mutex.
  out.push_back(
      {{"profile", "block"},
       Concat(profile, {{"exact", true}, {"source"}, {"no-symtab", true}})});
  for (const char* type : {"sched-latency", "wall"}) {
    out.push_back({{"profile", type}, Concat(profile, {{"exact", true}})});
  }
  // Read from the runtime's own buckets: here for --pid alone, else through
  // gspyd (selectors, --server, --kube-api).
  const std::vector<FlagSpec> buckets =
      Concat(kSelectorFlags, {{"o"},
                              {"output"},
                              {"delta"},
                              {"filter"},
                              {"no-symtab", true},
                              {"kube-api"},
                              {"kube-token-file"},
                              {"kube-ca-file"},
                              {"gspy-namespace"},
                              {"gspy-selector"}});
  out.push_back({{"profile", "heap"}, buckets});
  // The program's own mutex profile, from the runtime's buckets like heap.
  out.push_back({{"profile", "mutex"}, buckets});
  // --books reads the pause ring of one process directly, without gspyd.
  out.push_back({{"gc"},
                 Concat(kSelectorFlags, {{"duration"},
                                         {"books", true},
                                         {"interval"},
                                         {"no-symtab", true}})});
  // The runtime's books of one process, read directly, without gspyd.
  out.push_back({{"books"}, {{"pid"}, {"json", true}, {"no-symtab", true}}});
  out.push_back({{"goroutines"},
                 Concat(kSelectorFlags, {{"filter"},
                                         {"system", true},
                                         {"format"},
                                         {"o"},
                                         {"output"},
                                         {"core"},
                                         {"watch"},
                                         {"interval"},
                                         {"min-growth"},
                                         {"min-r2"},
                                         {"min-snapshots"}})});
  // Captures gspyd took on its own (gspyd --capture-rule).
  out.push_back({{"captures", "list"}, {}});
  out.push_back({{"captures", "get"}, {{"o"}, {"output"}}, 1, "an ID"});
  return out;
}

}  // namespace

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"server"},       {"help", true},      {"version", true},
      {"tls", true},    {"tls-ca-file"},     {"tls-cert-file"},
      {"tls-key-file"}, {"tls-server-name"}, {"token-file"}};
  return *flags;
}

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>(MakeCommands());
  return *commands;
}

std::vector<FlagSpec> AllFlags() {
  std::vector<FlagSpec> out = GlobalFlags();
  for (const CommandSpec& c : Commands()) {
    for (const FlagSpec& f : c.flags) {
      if (std::none_of(out.begin(), out.end(),
                       [&](const FlagSpec& o) { return o.name == f.name; })) {
        out.push_back(f);
      }
    }
  }
  return out;
}

const CommandSpec* FindCommand(const std::vector<std::string>& positional) {
  for (const CommandSpec& c : Commands()) {
    if (positional.size() >= c.words.size() &&
        std::equal(c.words.begin(), c.words.end(), positional.begin())) {
      return &c;
    }
  }
  return nullptr;
}

std::vector<FlagSpec> AllowedFlags(const CommandSpec& command) {
  return Concat(GlobalFlags(), command.flags);
}

absl::Status CheckCommandLine(const CommandLine& cl,
                              const CommandSpec& command) {
  const size_t expected = command.words.size() + command.operands;
  if (cl.positional.size() > expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        absl::StrJoin(command.words, " "), ": unexpected argument \"",
        cl.positional[expected], "\""));
  }
  // Only operands can be missing: `gspy --version` names the version
  // command by a flag, with no word.
  if (command.operands > 0 && cl.positional.size() < expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        absl::StrJoin(command.words, " "), ": ",
        command.operands == 1
            ? absl::StrCat(command.operand, " is needed")
            : absl::StrCat(command.operands, " files are needed")));
  }
  return CheckFlags(cl, AllowedFlags(command));
}

}  // namespace gspy
