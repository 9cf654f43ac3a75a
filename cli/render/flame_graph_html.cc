// The interactive HTML flame graphs: the merged call tree as JSON data (one
// array per field, indexed by node) in a page that embeds d3-flame-graph and
// gspy's glue (html/gspy_flame.js).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cli/render/flame_graph.h"
#include "cli/render/flame_graph_assets.h"
#include "cli/render/frame_tree.h"
#include "cli/render/json_text.h"
#include "cli/render/stacks.h"
#include "cli/render/svg_text.h"

namespace gspy {
namespace {

using render_internal::AppendJsonString;
using render_internal::FrameTree;
using render_internal::TreeNode;

constexpr char kPageStyle[] = R"css(
body { font-family: Verdana, sans-serif; font-size: 13px; margin: 12px; }
h1 { font-size: 17px; margin: 0 0 4px 0; }
#summary { color: #444; margin-bottom: 8px; }
#controls { margin-bottom: 6px; display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
#controls input { width: 22em; }
#match { font-weight: bold; }
#legend { margin: 4px 0; }
.legend-item { margin-right: 14px; white-space: nowrap; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
#details { min-height: 1.4em; color: #333; margin-top: 4px; }
#tooltip { position: absolute; display: none; pointer-events: none; white-space: pre;
  background: #fffff0; border: 1px solid #888; padding: 4px 6px; font-size: 12px; z-index: 10; }
)css";

// The nodes in depth-first pre-order with their depths: the page rebuilds
// the tree from depths alone (a node's parent is the last node one level
// up), which is smaller than parent indices. Iterative: a hostile profile
// can be deep.
struct Order {
  std::vector<uint32_t> nodes;
  std::vector<uint32_t> depths;
};

Order PreOrder(const FrameTree& tree) {
  Order out;
  std::vector<std::pair<uint32_t, uint32_t>> work = {{0, 0}};  // node, depth
  while (!work.empty()) {
    const auto [node, depth] = work.back();
    work.pop_back();
    out.nodes.push_back(node);
    out.depths.push_back(depth);
    const auto& children = tree.nodes()[node].children;
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      work.emplace_back(it->second, depth + 1);
    }
  }
  return out;
}

// Appends a JSON array of f(node) for every node, in `order`.
template <typename F>
void AppendColumn(std::string* out, const char* key, const FrameTree& tree,
                  const Order& order, F f) {
  absl::StrAppend(out, ",\"", key, "\":[");
  bool first = true;
  for (const uint32_t i : order.nodes) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, f(tree.nodes()[i]));
  }
  out->push_back(']');
}

std::string Summary(int64_t total, const render_internal::ValueKind& kind,
                    const RenderOptions& options) {
  const std::string unit = kind.unit.empty() ? "samples" : kind.unit;
  std::string s = absl::StrCat("Total: ", total, " ", unit);
  if (unit == "nanoseconds") {
    absl::StrAppend(&s, " (", absl::FormatDuration(absl::Nanoseconds(total)),
                    ")");
  }
  if (!kind.type.empty()) absl::StrAppend(&s, " of ", kind.type);
  if (!options.group_by_label.empty()) {
    absl::StrAppend(&s, ", coloured by label ", options.group_by_label);
  }
  return s;
}

std::string Page(const FrameTree& tree, const render_internal::ValueKind& kind,
                 const RenderOptions& options, bool diff,
                 const std::string& summary) {
  // The data: columns indexed by node, parents before children.
  std::string json = "{\"title\":";
  AppendJsonString(&json, options.title);
  json.append(",\"unit\":");
  AppendJsonString(&json, kind.unit.empty() ? "samples" : kind.unit);
  json.append(",\"summary\":");
  AppendJsonString(&json, summary);
  json.append(",\"groupBy\":");
  AppendJsonString(&json, options.group_by_label);
  absl::StrAppend(
      &json, ",\"diff\":", diff ? "true" : "false", ",\"widths\":",
      diff && options.diff_widths_from_base ? "\"base\"" : "\"new\"",
      ",\"strings\":[");
  for (size_t i = 0; i < tree.strings().size(); ++i) {
    if (i > 0) json.push_back(',');
    AppendJsonString(&json, tree.strings()[i]);
  }
  json.push_back(']');
  const Order order = PreOrder(tree);
  json.append(",\"depth\":[");
  for (size_t i = 0; i < order.depths.size(); ++i) {
    if (i > 0) json.push_back(',');
    absl::StrAppend(&json, order.depths[i]);
  }
  json.push_back(']');
  AppendColumn(&json, "name", tree, order,
               [](const TreeNode& n) { return n.name; });
  AppendColumn(&json, "value", tree, order,
               [](const TreeNode& n) { return n.value; });
  if (diff) {
    AppendColumn(&json, "base", tree, order,
                 [](const TreeNode& n) { return n.base; });
  }
  AppendColumn(&json, "file", tree, order,
               [](const TreeNode& n) { return n.file; });
  AppendColumn(&json, "line", tree, order,
               [](const TreeNode& n) { return n.HottestLine(); });
  json.push_back('}');

  const std::string title = render_internal::EscapeXml(options.title);
  std::string out;
  absl::StrAppend(
      &out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n",
      "<meta charset=\"utf-8\">\n<title>", title, "</title>\n",
      "<!--\nThis page embeds the following packages, under their licences:\n",
      render_internal::kFlameGraphNotices, "-->\n<style>", kPageStyle,
      "</style>\n</head>\n<body>\n<h1>", title, "</h1>\n",
      "<div id=\"summary\"></div>\n"
      "<div id=\"controls\">"
      "<form id=\"search-form\"><input id=\"term\" type=\"search\" "
      "placeholder=\"search functions (regular expression)\"> "
      "<button id=\"search\" type=\"submit\">Search</button> "
      "<button id=\"clear\" type=\"button\">Clear</button></form>"
      "<button id=\"reset\" type=\"button\">Reset zoom</button>"
      "<button id=\"toggle\" type=\"button\">Icicle (root at top)</button>"
      "<button id=\"widths\" type=\"button\"></button>"
      "<span id=\"match\"></span></div>\n"
      "<div id=\"legend\"></div>\n<div id=\"chart\"></div>\n"
      "<div id=\"details\"></div>\n<div id=\"tooltip\"></div>\n"
      "<script type=\"application/json\" id=\"gspy-data\">",
      json, "</script>\n<script>\n", render_internal::kFlameGraphScripts,
      "</script>\n<script>\n", render_internal::kGspyFlameJs,
      "</script>\n</body>\n</html>\n");
  return out;
}

}  // namespace

absl::StatusOr<std::string> RenderFlameGraphHtml(
    const perftools::profiles::Profile& profile, const RenderOptions& options) {
  FrameTree tree;
  absl::StatusOr<render_internal::ValueKind> kind =
      tree.Add(profile, options, FrameTree::Side::kValue);
  if (!kind.ok()) return kind.status();
  return Page(tree, *kind, options, /*diff=*/false,
              Summary(tree.total(FrameTree::Side::kValue), *kind, options));
}

absl::StatusOr<std::string> RenderDiffHtml(
    const perftools::profiles::Profile& base,
    const perftools::profiles::Profile& current, const RenderOptions& options) {
  FrameTree tree;
  absl::StatusOr<render_internal::ValueKind> kind =
      tree.Add(current, options, FrameTree::Side::kValue);
  if (!kind.ok()) return kind.status();
  absl::StatusOr<render_internal::ValueKind> base_kind =
      tree.Add(base, options, FrameTree::Side::kBase);
  if (!base_kind.ok()) return base_kind.status();
  if (base_kind->type != kind->type || base_kind->unit != kind->unit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the profiles measure different things: base ", base_kind->type, "/",
        base_kind->unit, ", new ", kind->type, "/", kind->unit));
  }
  std::string summary = absl::StrCat(
      "New: ", Summary(tree.total(FrameTree::Side::kValue), *kind, options),
      ". Base: ",
      Summary(tree.total(FrameTree::Side::kBase), *base_kind, options), ".");
  return Page(tree, *kind, options, /*diff=*/true, summary);
}

}  // namespace gspy
