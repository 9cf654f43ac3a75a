#include "cli/view_command.h"

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/render_output.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

// pprof files of real services are MBs; a GB is a mistake or an attack.
constexpr std::streamsize kMaxInputBytes = std::streamsize{1} << 30;

int Fail(const absl::Status& status) {
  fprintf(stderr, "gspy: %s\n", std::string(status.message()).c_str());
  return 1;
}

absl::StatusOr<perftools::profiles::Profile> ReadProfile(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string bytes;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    bytes.append(buffer, static_cast<size_t>(in.gcount()));
    if (static_cast<std::streamsize>(bytes.size()) > kMaxInputBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": larger than 1 GiB, not a profile to render"));
    }
  }
  absl::StatusOr<perftools::profiles::Profile> p = DecodeProfile(bytes);
  if (!p.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a pprof profile: ", p.status().message()));
  }
  return p;
}

// --sample-index=N or =TYPE, as pprof's -sample_index; default the last
// sample type, as pprof shows.
absl::StatusOr<int> ValueIndex(const CommandLine& cl,
                               const perftools::profiles::Profile& p) {
  const std::optional<std::string> flag = cl.Get("sample-index");
  if (!flag) return -1;
  int index;
  if (absl::SimpleAtoi(*flag, &index)) {
    if (index >= 0 && index < p.sample_type_size()) return index;
  } else {
    for (int i = 0; i < p.sample_type_size(); ++i) {
      if (p.string_table(static_cast<int>(p.sample_type(i).type())) == *flag) {
        return i;
      }
    }
  }
  std::string types;
  for (int i = 0; i < p.sample_type_size(); ++i) {
    absl::StrAppend(&types, i == 0 ? "" : ", ", i, "=",
                    p.string_table(static_cast<int>(p.sample_type(i).type())));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--sample-index=", *flag, ": the profile's sample types are ", types));
}

absl::StatusOr<RenderOptions> OptionsFor(const CommandLine& cl,
                                         const perftools::profiles::Profile& p,
                                         const std::string& title) {
  RenderOptions o;
  absl::StatusOr<int> index = ValueIndex(cl, p);
  if (!index.ok()) return index.status();
  o.value_index = *index;
  o.group_by_label = cl.Get("group-by").value_or("");
  o.title = title;
  return o;
}

std::string OutputOf(const CommandLine& cl) {
  return cl.Get("o").value_or(cl.Get("output").value_or(""));
}

}  // namespace

int ViewCommand(const CommandLine& cl) {
  if (cl.positional.size() != 2) {
    return Fail(absl::InvalidArgumentError("view: one FILE.pb.gz is needed"));
  }
  const std::string out = OutputOf(cl);
  if (out.empty()) {
    return Fail(absl::InvalidArgumentError(
        "view: -o FILE.html (or .svg, .folded) is required"));
  }
  absl::StatusOr<perftools::profiles::Profile> p =
      ReadProfile(cl.positional[1]);
  if (!p.ok()) return Fail(p.status());
  absl::StatusOr<RenderOptions> o = OptionsFor(cl, *p, cl.positional[1]);
  if (!o.ok()) return Fail(o.status());
  if (absl::Status s = WriteRendered(out, *p, *o); !s.ok()) return Fail(s);
  fprintf(stderr, "gspy: wrote %s\n", out.c_str());
  return 0;
}

int DiffCommand(const CommandLine& cl) {
  if (cl.positional.size() != 3) {
    return Fail(absl::InvalidArgumentError(
        "diff: two profiles are needed: gspy diff BASE.pb.gz NEW.pb.gz -o "
        "OUT.html"));
  }
  const std::string out = OutputOf(cl);
  if (out.empty()) {
    return Fail(absl::InvalidArgumentError(
        "diff: -o FILE.html (or .svg, .folded) is required"));
  }
  const std::string widths = cl.Get("widths").value_or("new");
  if (widths != "new" && widths != "base") {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "diff: --widths=", widths,
        ": want new (the new profile's shape) or base (the base's, to see "
        "what shrank or went away)")));
  }
  absl::StatusOr<perftools::profiles::Profile> base =
      ReadProfile(cl.positional[1]);
  if (!base.ok()) return Fail(base.status());
  absl::StatusOr<perftools::profiles::Profile> current =
      ReadProfile(cl.positional[2]);
  if (!current.ok()) return Fail(current.status());
  absl::StatusOr<RenderOptions> o = OptionsFor(
      cl, *current,
      absl::StrCat("gspy diff: ", cl.positional[1], " -> ", cl.positional[2]));
  if (!o.ok()) return Fail(o.status());
  o->diff_widths_from_base = widths == "base";
  if (absl::Status s = WriteRenderedDiff(out, *base, *current, *o); !s.ok()) {
    return Fail(s);
  }
  fprintf(stderr, "gspy: wrote %s\n", out.c_str());
  return 0;
}

}  // namespace gspy
