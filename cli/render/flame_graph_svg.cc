// An SVG flame graph in the style of Brendan Gregg's flamegraph.pl, written
// from scratch: stacks are merged into a tree whose frames are drawn as
// rectangles, root at the bottom, width proportional to value.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cli/render/flame_graph.h"
#include "cli/render/stacks.h"
#include "cli/render/svg_text.h"

namespace gspy {
namespace {

using render_internal::EscapeXml;
using render_internal::TruncateToChars;

constexpr int kImageWidth = 1200;
constexpr double kXPad = 10;
constexpr int kFrameHeight = 16;
constexpr int kTopPad = 56;  // title and subtitle
constexpr int kBottomPad = 10;
constexpr double kCharWidth = 7;  // ~12px Verdana
constexpr double kTextPad = 3;
// Frames narrower than this are invisible and only bloat the file.
constexpr double kMinFrameWidth = 0.1;

// Nodes live in one vector and refer to children by index: no recursion in
// building, drawing or destroying, however deep a (hostile) stack is.
struct Node {
  std::string name;
  int64_t value = 0;
  int64_t base = 0;                        // a diff's base profile
  std::map<std::string, size_t> children;  // sorted by name
};

class Tree {
 public:
  Tree() { nodes_.push_back(Node{"all", 0, 0, {}}); }

  // Adds to the value, or with to_base to the base of a diff.
  void Add(const std::vector<std::string>& frames, int64_t value,
           bool to_base = false) {
    const auto add = [&](Node& n) {
      int64_t& slot = to_base ? n.base : n.value;
      slot = render_internal::SaturatingAdd(slot, value);
    };
    size_t at = 0;
    add(nodes_[at]);
    for (const std::string& frame : frames) {
      auto [it, inserted] = nodes_[at].children.try_emplace(frame, 0);
      if (inserted) {
        it->second = nodes_.size();
        nodes_.push_back(Node{frame, 0, 0, {}});
      }
      at = it->second;
      add(nodes_[at]);
    }
  }

  const Node& node(size_t i) const { return nodes_[i]; }
  const Node& root() const { return nodes_[0]; }
  size_t size() const { return nodes_.size(); }

 private:
  std::vector<Node> nodes_;
};

// FNV-1a: a fixed, documented hash so colours are the same on every run and
// every machine (std::hash and absl::Hash are not stable across builds).
uint64_t StableHash(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// "github.com/x/y.(*T).M" -> "github.com/x/y": the package is everything up
// to the first '.' after the last '/'.
std::string_view PackageOf(std::string_view function) {
  const size_t slash = function.rfind('/');
  const size_t dot =
      function.find('.', slash == std::string_view::npos ? 0 : slash + 1);
  return dot == std::string_view::npos ? function : function.substr(0, dot);
}

// flamegraph.pl's "hot" palette, indexed by package so one package's frames
// share a colour.
std::string WarmColour(std::string_view function) {
  const uint64_t h = StableHash(PackageOf(function));
  const int r = 205 + static_cast<int>(h % 51);
  const int g = static_cast<int>((h >> 8) % 231);
  const int b = static_cast<int>((h >> 16) % 56);
  return absl::StrFormat("rgb(%d,%d,%d)", r, g, b);
}

// Frames under one label value share its hue; saturation and lightness vary
// by function so neighbouring frames stay distinguishable.
std::string GroupColour(int hue, std::string_view function) {
  const uint64_t h = StableHash(function);
  const int saturation = 55 + static_cast<int>(h % 21);
  const int lightness = 55 + static_cast<int>((h >> 8) % 16);
  return absl::StrFormat("hsl(%d,%d%%,%d%%)", hue, saturation, lightness);
}

// A hue per group value from its hash, nudged by the golden angle while it
// sits too close to one already taken, so distinct values look distinct.
std::map<std::string, int> AssignHues(const Node& root) {
  constexpr int kMinDistance = 10;
  std::map<std::string, int> hues;
  std::vector<int> taken;
  for (const auto& [name, index] : root.children) {
    int hue = static_cast<int>(StableHash(name) % 360);
    for (int attempt = 0; attempt < 36; ++attempt) {
      const bool clash = std::any_of(taken.begin(), taken.end(), [&](int t) {
        const int d = std::abs(t - hue);
        return std::min(d, 360 - d) < kMinDistance;
      });
      if (!clash) break;
      hue = (hue + 137) % 360;
    }
    taken.push_back(hue);
    hues[name] = hue;
  }
  return hues;
}

std::string Percent(int64_t part, int64_t total) {
  return absl::StrFormat(
      "%.2f%%", 100.0 * static_cast<double>(part) / static_cast<double>(total));
}

// Share of the current total minus share of the base total, in points.
double ShareChange(const Node& n, int64_t total, int64_t base_total) {
  const auto share = [](int64_t part, int64_t whole) {
    return whole > 0
               ? 100.0 * static_cast<double>(part) / static_cast<double>(whole)
               : 0.0;
  };
  return share(n.value, total) - share(n.base, base_total);
}

struct Pending {
  size_t node;
  int depth;
  double x;  // left edge, px
  int hue;   // -1: not grouped (yet)
};

// Brendan Gregg's differential colours: the change in share of a frame,
// normalised by each profile's total; red grew, blue shrank, saturation
// relative to the largest change, white unchanged.
std::string DiffColour(const Node& n, int64_t total, int64_t base_total,
                       double max_change) {
  const double change = ShareChange(n, total, base_total);
  const double r = max_change > 0 ? std::abs(change) / max_change : 0;
  const int fade = static_cast<int>(std::lround(255 - 200 * r));
  if (change > 0) return absl::StrFormat("rgb(255,%d,%d)", fade, fade);
  if (change < 0) return absl::StrFormat("rgb(%d,%d,255)", fade, fade);
  return "rgb(255,255,255)";
}

// Draws the tree; with diff, colours by change against the nodes' base.
std::string RenderTree(const Tree& tree, size_t max_depth,
                       const render_internal::Stacks& kind,
                       const RenderOptions& options, bool diff) {
  const bool grouped = !options.group_by_label.empty();
  const std::map<std::string, int> hues =
      grouped ? AssignHues(tree.root()) : std::map<std::string, int>{};

  const int64_t total = tree.root().value;
  // Which profile's values the widths are (a diff may draw the base's).
  const bool widths_from_base = diff && options.diff_widths_from_base;
  auto width_of = [widths_from_base](const Node& n) {
    return widths_from_base ? n.base : n.value;
  };
  const int64_t drawn_total = width_of(tree.root());
  const double scale = drawn_total > 0 ? (kImageWidth - 2 * kXPad) /
                                             static_cast<double>(drawn_total)
                                       : 0;
  // Frames narrower than the cut-off are dropped, so depth beyond the last
  // visible frame would only add empty space; it is bounded by max_depth.
  const int height =
      kTopPad + static_cast<int>(max_depth + 1) * kFrameHeight + kBottomPad;
  const std::string unit =
      kind.value_unit.empty() ? "samples" : kind.value_unit;
  const int64_t base_total = tree.root().base;
  double max_change = 0;
  if (diff) {
    for (size_t i = 1; i < tree.size(); ++i) {
      max_change = std::max(
          max_change, std::abs(ShareChange(tree.node(i), total, base_total)));
    }
  }

  std::string out;
  absl::StrAppendFormat(
      &out,
      "<?xml version=\"1.0\" standalone=\"no\"?>\n"
      "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "xmlns=\"http://www.w3.org/2000/svg\">\n"
      "<style>text { font-family: Verdana, sans-serif; font-size: 12px; "
      "fill: rgb(0,0,0); } .title { font-size: 17px; } "
      "g.frame rect { stroke: rgb(248,248,248); stroke-width: 0.5; } "
      "g.frame:hover rect { stroke: black; }</style>\n"
      "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
      "fill=\"rgb(248,248,248)\"/>\n",
      kImageWidth, height, kImageWidth, height, kImageWidth, height);
  absl::StrAppendFormat(&out,
                        "<text class=\"title\" x=\"%d\" y=\"24\" "
                        "text-anchor=\"middle\">%s</text>\n",
                        kImageWidth / 2, EscapeXml(options.title));
  std::string subtitle = absl::StrCat("Total: ", total, " ", unit);
  if (unit == "nanoseconds") {
    // Raw nanoseconds are unreadable at a glance; pprof prints "1.12s".
    absl::StrAppend(&subtitle, " (",
                    absl::FormatDuration(absl::Nanoseconds(total)), ")");
  }
  if (!kind.value_type.empty()) {
    absl::StrAppend(&subtitle, " of ", kind.value_type);
  }
  if (diff) {
    absl::StrAppend(&subtitle, "; base: ", base_total,
                    "; red grew, blue shrank (share of total); widths: ",
                    widths_from_base ? "base" : "new");
  }
  if (grouped)
    absl::StrAppend(&subtitle, ", grouped by ", options.group_by_label);
  absl::StrAppendFormat(
      &out, "<text x=\"%d\" y=\"44\" text-anchor=\"middle\">%s</text>\n",
      kImageWidth / 2, EscapeXml(subtitle));
  if (drawn_total == 0) {
    absl::StrAppendFormat(
        &out,
        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">No samples"
        "</text>\n</svg>\n",
        kImageWidth / 2, kTopPad + kFrameHeight);
    return out;
  }

  out.append("<g class=\"frames\">\n");
  // Pre-order walk, parents before children, children in name order.
  std::vector<Pending> work = {{0, 0, kXPad, -1}};
  while (!work.empty()) {
    const Pending p = work.back();
    work.pop_back();
    const Node& node = tree.node(p.node);
    const double width = static_cast<double>(width_of(node)) * scale;
    if (width < kMinFrameWidth) continue;  // children are narrower still

    int hue = p.hue;
    if (grouped && p.depth == 1) {
      auto it = hues.find(node.name);
      if (it != hues.end()) hue = it->second;
    }
    std::string fill;
    if (p.depth == 0) {
      fill = "rgb(210,210,210)";
    } else if (diff) {
      fill = DiffColour(node, total, base_total, max_change);
    } else if (hue >= 0) {
      fill = GroupColour(hue, node.name);
    } else {
      fill = WarmColour(node.name);
    }
    const int y = height - kBottomPad - (p.depth + 1) * kFrameHeight;
    absl::StrAppendFormat(
        &out,
        "<g class=\"frame\"><title>%s (%d %s, %s%s)</title>"
        "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" rx=\"2\" "
        "ry=\"2\" fill=\"%s\"/>",
        EscapeXml(node.name), node.value, EscapeXml(unit),
        Percent(node.value, total),
        diff ? absl::StrFormat("; base %d, %+.2f points", node.base,
                               ShareChange(node, total, base_total))
             : "",
        p.x, y, width, kFrameHeight - 1, fill);
    const double room = width - 2 * kTextPad;
    const std::string label = TruncateToChars(
        node.name, room > 0 ? static_cast<size_t>(room / kCharWidth) : 0);
    if (!label.empty()) {
      absl::StrAppendFormat(&out, "<text x=\"%.2f\" y=\"%.1f\">%s</text>",
                            p.x + kTextPad, y + kFrameHeight - 4.5,
                            EscapeXml(label));
    }
    out.append("</g>\n");

    // Push children in reverse so they pop (and are emitted) in name order.
    double child_x = p.x;
    std::vector<Pending> children;
    for (const auto& [name, index] : node.children) {
      children.push_back({index, p.depth + 1, child_x, hue});
      child_x += static_cast<double>(width_of(tree.node(index))) * scale;
    }
    work.insert(work.end(), children.rbegin(), children.rend());
  }
  out.append("</g>\n</svg>\n");
  return out;
}

}  // namespace

absl::StatusOr<std::string> RenderFlameGraphSvg(
    const perftools::profiles::Profile& profile, const RenderOptions& options) {
  absl::StatusOr<render_internal::Stacks> stacks =
      render_internal::CollectStacks(profile, options);
  if (!stacks.ok()) return stacks.status();
  Tree tree;
  size_t max_depth = 0;
  for (const auto& [frames, value] : stacks->stacks) {
    tree.Add(frames, value);
    max_depth = std::max(max_depth, frames.size());
  }
  return RenderTree(tree, max_depth, *stacks, options, /*diff=*/false);
}

absl::StatusOr<std::string> RenderDiffSvg(
    const perftools::profiles::Profile& base,
    const perftools::profiles::Profile& current, const RenderOptions& options) {
  absl::StatusOr<render_internal::Stacks> now =
      render_internal::CollectStacks(current, options);
  if (!now.ok()) return now.status();
  absl::StatusOr<render_internal::Stacks> before =
      render_internal::CollectStacks(base, options);
  if (!before.ok()) return before.status();
  if (absl::Status s = render_internal::CheckSameKind(*before, *now); !s.ok()) {
    return s;
  }
  Tree tree;
  size_t max_depth = 0;  // of the profile whose widths are drawn
  for (const auto& [frames, value] : now->stacks) {
    tree.Add(frames, value);
    if (!options.diff_widths_from_base) {
      max_depth = std::max(max_depth, frames.size());
    }
  }
  for (const auto& [frames, value] : before->stacks) {
    tree.Add(frames, value, /*to_base=*/true);
    if (options.diff_widths_from_base) {
      max_depth = std::max(max_depth, frames.size());
    }
  }
  return RenderTree(tree, max_depth, *now, options, /*diff=*/true);
}

}  // namespace gspy
