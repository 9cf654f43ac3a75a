#include "cli/leak_report.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace gspy {
namespace {

// Groups that grew but not steadily are listed up to this many: the list
// is context (what a naive check would flag), not the finding.
constexpr size_t kMaxNotSteadyShown = 5;

std::string Creator(const GroupTrend& g) {
  if (g.created_by.empty()) return "(main goroutine)";
  return absl::StrCat(g.created_by, " at ", g.created_at);
}

void AppendGroupText(const GroupTrend& g, std::string* out) {
  absl::StrAppendFormat(out, "  %+8.2f  %5.3f  %6d  %6d  %-18s  %s\n",
                        g.rate_per_second, g.r2, g.start_count, g.end_count,
                        g.state, Creator(g));
  if (g.running) absl::StrAppend(out, "      (running: stack not read)\n");
  for (const ShownFrame& f : g.stack) {
    absl::StrAppendFormat(out, "      %s\n          %s:%d\n", f.function,
                          f.file, f.line);
  }
  absl::StrAppend(
      out, "      goids: ", absl::StrJoin(g.sample_goids, " "),
      g.end_count > static_cast<int64_t>(g.sample_goids.size()) ? " ..." : "",
      "\n");
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string JsonStrings(const std::vector<std::string>& v) {
  std::vector<std::string> quoted;
  quoted.reserve(v.size());
  for (const std::string& s : v) quoted.push_back(JsonString(s));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

std::string JsonGroup(const GroupTrend& g) {
  std::vector<std::string> frames;
  for (const ShownFrame& f : g.stack) {
    frames.push_back(absl::StrCat("{\"function\":", JsonString(f.function),
                                  ",\"file\":", JsonString(f.file),
                                  ",\"line\":", f.line, "}"));
  }
  return absl::StrCat(
      "{\"pid\":", g.pid, ",\"created_by\":", JsonString(g.created_by),
      ",\"created_at\":", JsonString(g.created_at), ",\"stack\":[",
      absl::StrJoin(frames, ","),
      "],\"running\":", g.running ? "true" : "false",
      ",\"start_count\":", g.start_count, ",\"end_count\":", g.end_count,
      ",\"min_count\":", g.min_count, ",\"max_count\":", g.max_count,
      ",\"rate_per_second\":", absl::StrFormat("%.6g", g.rate_per_second),
      ",\"r2\":", absl::StrFormat("%.6g", g.r2),
      ",\"state\":", JsonString(g.state), ",\"goids\":[",
      absl::StrJoin(g.sample_goids, ","), "],\"reason\":", JsonString(g.reason),
      "}");
}

std::string JsonGroups(const std::vector<GroupTrend>& groups) {
  std::vector<std::string> items;
  items.reserve(groups.size());
  for (const GroupTrend& g : groups) items.push_back(JsonGroup(g));
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

}  // namespace

std::string FormatLeakReportText(const LeakReport& report) {
  std::string out;
  if (report.processes.empty()) {
    return "no process was dumped: nothing to judge\n";
  }
  int growing = 0;
  for (const ProcessLeaks& p : report.processes) {
    absl::StrAppendFormat(
        &out, "pid %d (%s): %d snapshots over %.1fs, %d goroutine groups\n",
        p.pid, p.go_version, p.snapshots, absl::ToDoubleSeconds(p.span),
        p.groups);
    if (!p.note.empty()) {
      absl::StrAppend(&out, "  ", p.note, "\n");
      continue;
    }
    growing += static_cast<int>(p.growing.size());
    if (p.growing.empty()) {
      absl::StrAppend(&out, "  no growing goroutine groups\n");
    } else {
      absl::StrAppendFormat(&out, "  %8s  %5s  %6s  %6s  %-18s  %s\n", "RATE/S",
                            "R2", "START", "END", "STATE", "CREATED BY");
      for (const GroupTrend& g : p.growing) AppendGroupText(g, &out);
    }
    if (!p.not_steady.empty()) {
      absl::StrAppend(
          &out, "  grew, but not steadily (fluctuation, not reported):\n");
      for (size_t i = 0; i < std::min(p.not_steady.size(), kMaxNotSteadyShown);
           ++i) {
        const GroupTrend& g = p.not_steady[i];
        absl::StrAppendFormat(
            &out, "    %d -> %d (min %d, max %d) %s [%s]: %s\n", g.start_count,
            g.end_count, g.min_count, g.max_count,
            g.stack.empty() ? Creator(g) : g.stack.front().function, g.state,
            g.reason);
      }
      if (p.not_steady.size() > kMaxNotSteadyShown) {
        absl::StrAppend(&out, "    ... and ",
                        p.not_steady.size() - kMaxNotSteadyShown, " more\n");
      }
    }
  }
  if (growing == 0 && report.processes.size() > 1) {
    absl::StrAppend(&out, "no growing goroutine groups\n");
  }
  return out;
}

std::string FormatLeakReportJson(const LeakReport& report) {
  std::vector<std::string> processes;
  for (const ProcessLeaks& p : report.processes) {
    processes.push_back(absl::StrCat(
        "{\"pid\":", p.pid, ",\"go_version\":", JsonString(p.go_version),
        ",\"snapshots\":", p.snapshots,
        ",\"seconds\":", absl::StrFormat("%.3f", absl::ToDoubleSeconds(p.span)),
        ",\"groups\":", p.groups, ",\"note\":", JsonString(p.note),
        ",\"growing\":", JsonGroups(p.growing),
        ",\"not_steady\":", JsonGroups(p.not_steady), "}"));
  }
  return absl::StrCat(
      "{\"processes\":[", absl::StrJoin(processes, ","),
      "],\"warnings\":", JsonStrings(report.warnings),
      ",\"ended_early\":", report.ended_early ? "true" : "false", "}\n");
}

}  // namespace gspy
