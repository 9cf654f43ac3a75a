// The HTML flame graphs: the data they embed (read back with protobuf's own
// JSON parser, not ours), its escaping against hostile names, the licence
// notices; and the differential SVG and folded forms.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/render/flame_graph.h"
#include "cli/render/json_text.h"
#include "tests/unit/cli/render/synthetic_profile.h"

namespace gspy {
namespace {

using render_internal::AppendJsonString;
using testing::BuildProfile;

std::string Html(const perftools::profiles::Profile& p,
                 const RenderOptions& options = {}) {
  absl::StatusOr<std::string> out = RenderFlameGraphHtml(p, options);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

// The JSON between <script type="application/json" id="gspy-data"> and
// its </script>, parsed by protobuf.
google::protobuf::Struct Data(const std::string& html) {
  const std::string open =
      "<script type=\"application/json\" id=\"gspy-data\">";
  const size_t start = html.find(open);
  EXPECT_NE(start, std::string::npos);
  const size_t end = html.find("</script>", start);
  const std::string json =
      html.substr(start + open.size(), end - start - open.size());
  google::protobuf::Struct out;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Root-to-node paths joined by ';' and their values, from the columns.
std::map<std::string, double> Paths(const google::protobuf::Struct& d,
                                    const char* column = "value") {
  const auto& f = d.fields();
  const auto& strings = f.at("strings").list_value().values();
  const auto& depth = f.at("depth").list_value().values();
  const auto& name = f.at("name").list_value().values();
  const auto& value = f.at(column).list_value().values();
  EXPECT_EQ(name.size(), depth.size());
  EXPECT_EQ(value.size(), depth.size());
  // Pre-order: a node's path is its parent's (the last node one level up)
  // plus its name.
  std::vector<std::string> at_depth;
  std::map<std::string, double> out;
  for (int i = 0; i < depth.size(); ++i) {
    const auto d = static_cast<size_t>(depth[i].number_value());
    EXPECT_EQ(d == 0, i == 0) << "one root, first";
    EXPECT_LE(d, at_depth.size()) << "a child follows its parent";
    const std::string& n =
        strings[static_cast<int>(name[i].number_value())].string_value();
    at_depth.resize(d);
    at_depth.push_back(d == 0 ? n : absl::StrCat(at_depth[d - 1], ";", n));
    out[at_depth.back()] = value[i].number_value();
  }
  return out;
}

TEST(JsonTextTest, EscapesWhatCouldEndTheScriptOrBreakJson) {
  std::string out;
  AppendJsonString(&out, "</script><!--&\"\\\n\x01");
  EXPECT_EQ(out,
            "\"\\u003c/script\\u003e\\u003c!--\\u0026\\\"\\\\\\u000a\\u0001\"");
}

TEST(JsonTextTest, KeepsUtf8AndReplacesInvalidBytes) {
  std::string out;
  AppendJsonString(&out, "\xc3\xa9\xe2\x80\xa8\xff\xc0\xaf\xed\xa0\x80z");
  // é kept; U+2028 escaped; a stray byte, an overlong '/' and a surrogate
  // become U+FFFD, one per byte that starts no valid sequence.
  EXPECT_EQ(out,
            "\"\xc3\xa9\\u2028\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffdz\"");
  google::protobuf::Value v;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(out, &v).ok());
}

TEST(RenderFlameGraphHtmlTest, EmbedsTheTreeWithInclusiveValues) {
  const auto p = BuildProfile({{{"main.main", "main.b"}, 5, "x"},
                               {{"main.main", "main.a"}, 3, "y"},
                               {{"main.main", "main.b"}, 2, "y"},
                               {{"main.main"}, 1, ""}});
  const auto data = Data(Html(p));
  EXPECT_EQ(Paths(data),
            (std::map<std::string, double>{{"all", 11},
                                           {"all;main.main", 11},
                                           {"all;main.main;main.a", 3},
                                           {"all;main.main;main.b", 7}}));
  EXPECT_FALSE(data.fields().at("diff").bool_value());
  EXPECT_EQ(data.fields().at("unit").string_value(), "nanoseconds");
}

TEST(RenderFlameGraphHtmlTest, GroupsByLabelUnderTheRoot) {
  const auto p = BuildProfile({{{"main.main"}, 4, "alpha"},
                               {{"main.main"}, 6, "beta"},
                               {{"main.main"}, 1, ""}});
  const auto data = Data(Html(p, {.group_by_label = "phase"}));
  EXPECT_EQ(Paths(data),
            (std::map<std::string, double>{{"all", 11},
                                           {"all;phase=<none>", 1},
                                           {"all;phase=<none>;main.main", 1},
                                           {"all;phase=alpha", 4},
                                           {"all;phase=alpha;main.main", 4},
                                           {"all;phase=beta", 6},
                                           {"all;phase=beta;main.main", 6}}));
  EXPECT_EQ(data.fields().at("groupBy").string_value(), "phase");
}

TEST(RenderFlameGraphHtmlTest, HostileNamesStayData) {
  const std::string evil = "</script><script>alert(1)</script>";
  const auto p = BuildProfile({{{"main.main", evil}, 5, evil}});
  const std::string html =
      Html(p, {.group_by_label = "phase", .title = "<b>" + evil});
  // Only gspy's three script elements close: data, library, glue.
  EXPECT_EQ(Count(absl::AsciiStrToLower(html), "</script"), 3u);
  EXPECT_EQ(Count(html, "<script"), 3u);
  EXPECT_FALSE(absl::StrContains(html, "alert(1)</script>"));
  EXPECT_FALSE(absl::StrContains(html, "<b>"));
  // ... and read back, the names are intact.
  const auto paths = Paths(Data(html));
  EXPECT_EQ(paths.at("all;phase=" + evil + ";main.main;" + evil), 5);
}

TEST(RenderFlameGraphHtmlTest, KeepsTheLicenceNotices) {
  const std::string html = Html(BuildProfile({{{"main.main"}, 1, ""}}));
  const size_t notices = html.find("<!--");
  ASSERT_NE(notices, std::string::npos);
  const std::string comment =
      html.substr(notices, html.find("-->", notices) - notices);
  EXPECT_TRUE(absl::StrContains(comment, "d3-flame-graph 5.0.0 (Apache-2.0)"));
  EXPECT_TRUE(absl::StrContains(comment, "Apache License"));
  EXPECT_TRUE(absl::StrContains(comment, "d3-selection"));
  EXPECT_TRUE(absl::StrContains(comment, "ISC"));
  EXPECT_TRUE(absl::StrContains(comment, "d3-ease 3.0.2 (BSD-3-Clause)"));
}

TEST(RenderDiffTest, HtmlCarriesBothValues) {
  const auto base = BuildProfile(
      {{{"main.main", "main.a"}, 6, ""}, {{"main.main", "main.b"}, 2, ""}});
  const auto cur = BuildProfile(
      {{{"main.main", "main.a"}, 2, ""}, {{"main.main", "main.c"}, 6, ""}});
  absl::StatusOr<std::string> html = RenderDiffHtml(base, cur, {});
  ASSERT_TRUE(html.ok()) << html.status();
  const auto data = Data(*html);
  EXPECT_TRUE(data.fields().at("diff").bool_value());
  EXPECT_EQ(Paths(data),
            (std::map<std::string, double>{{"all", 8},
                                           {"all;main.main", 8},
                                           {"all;main.main;main.a", 2},
                                           {"all;main.main;main.b", 0},
                                           {"all;main.main;main.c", 6}}));
  EXPECT_EQ(Paths(data, "base"),
            (std::map<std::string, double>{{"all", 8},
                                           {"all;main.main", 8},
                                           {"all;main.main;main.a", 6},
                                           {"all;main.main;main.b", 2},
                                           {"all;main.main;main.c", 0}}));
}

TEST(RenderDiffTest, FoldedHasBaseThenNewCounts) {
  const auto base = BuildProfile(
      {{{"main.main", "main.a"}, 6, ""}, {{"main.main", "main.b"}, 2, ""}});
  const auto cur = BuildProfile(
      {{{"main.main", "main.a"}, 2, ""}, {{"main.main", "main.c"}, 6, ""}});
  absl::StatusOr<std::string> folded = RenderDiffFolded(base, cur, {});
  ASSERT_TRUE(folded.ok()) << folded.status();
  EXPECT_EQ(*folded,
            "main.main;main.a 6 2\n"
            "main.main;main.b 2 0\n"
            "main.main;main.c 0 6\n");
}

TEST(RenderDiffTest, SvgColoursGrowthRedAndShrinkageBlue) {
  // Totals differ (8, 16): shares decide, not counts. main.a: 75% -> 25%,
  // main.b: 25% -> 25% (its count doubled), main.c: 0 -> 50%.
  const auto base = BuildProfile(
      {{{"main.main", "main.a"}, 6, ""}, {{"main.main", "main.b"}, 2, ""}});
  const auto cur = BuildProfile({{{"main.main", "main.a"}, 4, ""},
                                 {{"main.main", "main.b"}, 4, ""},
                                 {{"main.main", "main.c"}, 8, ""}});
  absl::StatusOr<std::string> svg = RenderDiffSvg(base, cur, {});
  ASSERT_TRUE(svg.ok()) << svg.status();
  const auto fill_of = [&](const std::string& name) {
    const size_t t = svg->find("<title>" + name + " (");
    EXPECT_NE(t, std::string::npos) << name;
    const size_t f = svg->find("fill=\"", t) + 6;
    return svg->substr(f, svg->find('"', f) - f);
  };
  EXPECT_EQ(fill_of("main.c"), "rgb(255,55,55)") << "the largest growth";
  EXPECT_EQ(fill_of("main.a"), "rgb(55,55,255)") << "as large a shrinkage";
  EXPECT_EQ(fill_of("main.b"), "rgb(255,255,255)") << "same share: white";
}

TEST(RenderDiffTest, SvgWithBaseWidthsDrawsWhatWentAway) {
  // main.b is only in the base: with the new profile's widths it has none,
  // with the base's it is drawn, blue (its share fell from 25% to 0).
  const auto base = BuildProfile(
      {{{"main.main", "main.a"}, 6, ""}, {{"main.main", "main.b"}, 2, ""}});
  const auto cur = BuildProfile(
      {{{"main.main", "main.a"}, 2, ""}, {{"main.main", "main.c"}, 6, ""}});
  absl::StatusOr<std::string> shape_new = RenderDiffSvg(base, cur, {});
  ASSERT_TRUE(shape_new.ok()) << shape_new.status();
  EXPECT_FALSE(absl::StrContains(*shape_new, "<title>main.b ("));
  EXPECT_TRUE(absl::StrContains(*shape_new, "<title>main.c ("));

  RenderOptions o;
  o.diff_widths_from_base = true;
  absl::StatusOr<std::string> shape_base = RenderDiffSvg(base, cur, o);
  ASSERT_TRUE(shape_base.ok()) << shape_base.status();
  EXPECT_FALSE(absl::StrContains(*shape_base, "<title>main.c ("));
  const size_t t = shape_base->find("<title>main.b (0 ");
  ASSERT_NE(t, std::string::npos) << *shape_base;
  const size_t w = shape_base->find("width=\"", t) + 7;
  const size_t f = shape_base->find("fill=\"", t) + 6;
  // A quarter of the drawable width (the base total is 8, main.b 2).
  EXPECT_NEAR(std::stod(shape_base->substr(w)), 0.25 * (1200 - 20), 1.0);
  // -25 points against the largest change, main.c's +75: a third as deep.
  EXPECT_EQ(shape_base->substr(f, shape_base->find('"', f) - f),
            "rgb(188,188,255)");
  EXPECT_TRUE(absl::StrContains(*shape_base, "widths: base"));
}

TEST(RenderDiffTest, HtmlSaysWhichWidthsToDrawFirst) {
  const auto p = BuildProfile({{{"main.main"}, 1, ""}});
  RenderOptions o;
  absl::StatusOr<std::string> html = RenderDiffHtml(p, p, o);
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_EQ(Data(*html).fields().at("widths").string_value(), "new");
  o.diff_widths_from_base = true;
  html = RenderDiffHtml(p, p, o);
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_EQ(Data(*html).fields().at("widths").string_value(), "base");
}

TEST(RenderDiffTest, RefusesProfilesOfDifferentKinds) {
  const auto cpu = BuildProfile({{{"main.main"}, 1, ""}});
  ProfileBuilder b({{"alloc_space", "bytes"}}, {"space", "bytes"}, 1);
  const Frame f{"main.main", "/a.go", 1, 1, false};
  const uint64_t stack[] = {b.LocationId(0, 0x10, {&f, 1})};
  b.AddSample(stack, {5}, {});
  EXPECT_FALSE(RenderDiffFolded(cpu, b.proto(), {}).ok());
  EXPECT_FALSE(RenderDiffSvg(cpu, b.proto(), {}).ok());
  EXPECT_FALSE(RenderDiffHtml(cpu, b.proto(), {}).ok());
}

}  // namespace
}  // namespace gspy
