#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <set>
#include <string>

#include "cli/render/flame_graph.h"
#include "tests/unit/cli/render/svg_check.h"
#include "tests/unit/cli/render/synthetic_profile.h"

namespace gspy {
namespace {

using testing::BuildProfile;
using testing::FrameRect;
using testing::FrameRects;
using testing::IsWellFormedXml;

constexpr double kDrawableWidth = 1180;  // 1200 minus 10px padding each side

std::string Svg(const perftools::profiles::Profile& p,
                const RenderOptions& options = {}) {
  absl::StatusOr<std::string> out = RenderFlameGraphSvg(p, options);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

const FrameRect& Only(const std::multimap<std::string, FrameRect>& rects,
                      const std::string& name) {
  EXPECT_EQ(rects.count(name), 1u) << name;
  static const FrameRect kMissing;
  auto it = rects.find(name);
  return it == rects.end() ? kMissing : it->second;
}

TEST(FlameGraphSvgTest, WellFormedWithHeaderAndTotal) {
  const auto p = BuildProfile(
      {{{"main.main", "main.a"}, 30, ""}, {{"main.main", "main.b"}, 10, ""}});
  const std::string svg = Svg(p, {.title = "CPU of checkout"});
  EXPECT_TRUE(IsWellFormedXml(svg));
  EXPECT_NE(svg.find("width=\"1200\""), std::string::npos);
  EXPECT_NE(svg.find(">CPU of checkout</text>"), std::string::npos);
  EXPECT_NE(svg.find("Total: 40 nanoseconds (40ns) of cpu"), std::string::npos);
  EXPECT_EQ(Svg(p, {.title = "CPU of checkout"}), svg) << "deterministic";
}

TEST(FlameGraphSvgTest, WidthsProportionalToValues) {
  const auto p = BuildProfile({{{"main.main", "main.a"}, 3000, ""},
                               {{"main.main", "main.b"}, 1000, ""}});
  const auto rects = FrameRects(Svg(p));
  ASSERT_EQ(rects.size(), 4u);  // all, main.main, main.a, main.b
  const FrameRect& all = Only(rects, "all");
  const FrameRect& main = Only(rects, "main.main");
  const FrameRect& a = Only(rects, "main.a");
  const FrameRect& b = Only(rects, "main.b");
  EXPECT_NEAR(all.width, kDrawableWidth, 0.01);
  EXPECT_NEAR(main.width, kDrawableWidth, 0.01);
  EXPECT_NEAR(a.width, 3 * b.width, 0.5);
  EXPECT_NEAR(a.width + b.width, main.width, 0.02);
  // Children sorted by name, left to right; root at the bottom.
  EXPECT_NEAR(a.x, main.x, 0.01);
  EXPECT_NEAR(b.x, a.x + a.width, 0.02);
  EXPECT_GT(all.y, main.y);
  EXPECT_GT(main.y, a.y);
  EXPECT_EQ(a.y, b.y);
  EXPECT_EQ(a.title, "3000 nanoseconds, 75.00%");
  EXPECT_EQ(b.title, "1000 nanoseconds, 25.00%");
}

TEST(FlameGraphSvgTest, MergesIdenticalPrefixes) {
  const auto p = BuildProfile({{{"main.main", "main.x", "main.a"}, 1, ""},
                               {{"main.main", "main.x", "main.b"}, 1, ""},
                               {{"main.main", "main.x"}, 2, ""}});
  const auto rects = FrameRects(Svg(p));
  EXPECT_EQ(rects.count("main.x"), 1u);
  EXPECT_EQ(Only(rects, "main.x").title, "4 nanoseconds, 100.00%");
}

TEST(FlameGraphSvgTest, EscapesNames) {
  ProfileBuilder b({{"samples", "count"}}, {"samples", "count"}, 1);
  const uint64_t loc[] = {
      b.SyntheticLocationId("pkg.F[go.shape.<T>]&\"x\"'y'")};
  b.AddSample(loc, {1}, {});
  const std::string svg = Svg(b.proto(), {.title = "<script>"});
  EXPECT_TRUE(IsWellFormedXml(svg));
  EXPECT_EQ(svg.find("<T>"), std::string::npos);
  EXPECT_EQ(svg.find("<script>"), std::string::npos);
  EXPECT_NE(
      svg.find("pkg.F[go.shape.&lt;T&gt;]&amp;&quot;x&quot;&apos;y&apos;"),
      std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;"), std::string::npos);
}

TEST(FlameGraphSvgTest, TruncatesNamesToFit) {
  const std::string long_name =
      "github.com/example/service/internal/handlers.(*Checkout).Serve";
  const auto p = BuildProfile({{{"main.main", long_name}, 10, ""},
                               {{"main.main", "main.big"}, 990, ""}});
  const std::string svg = Svg(p);
  EXPECT_TRUE(IsWellFormedXml(svg));
  const auto rects = FrameRects(svg);
  const FrameRect& narrow = Only(rects, long_name);
  // 1% of 1180px = 11.8px: room for one 7px character, too few to print.
  EXPECT_NEAR(narrow.width, 11.8, 0.01);
  EXPECT_EQ(narrow.text, "");
  const auto p2 = BuildProfile({{{"main.main", long_name}, 150, ""},
                                {{"main.main", "main.big"}, 850, ""}});
  const auto rects2 = FrameRects(Svg(p2));
  const FrameRect& cut = Only(rects2, long_name);
  // 177px wide: (177 - 6) / 7 = 24 characters, the last two "..".
  ASSERT_GE(cut.text.size(), 3u);
  EXPECT_EQ(cut.text, long_name.substr(0, 22) + "..");
  EXPECT_LE(cut.text.size() * 7, cut.width);
  EXPECT_EQ(Only(rects2, "main.big").text, "main.big");
}

TEST(FlameGraphSvgTest, OmitsFramesNarrowerThanATenthOfAPixel) {
  const auto p = BuildProfile({{{"main.main", "main.tiny"}, 1, ""},
                               {{"main.main", "main.huge"}, 100'000, ""}});
  const std::string svg = Svg(p);
  EXPECT_EQ(svg.find("main.tiny"), std::string::npos);
  EXPECT_NE(svg.find("main.huge"), std::string::npos);
}

double Hue(const std::string& fill) {
  std::smatch m;
  if (!std::regex_match(fill, m, std::regex("hsl\\((\\d+),\\d+%,\\d+%\\)"))) {
    ADD_FAILURE() << "not an hsl colour: " << fill;
    return -1;
  }
  return std::stod(m[1]);
}

TEST(FlameGraphSvgTest, GroupedFramesShareTheirLabelHue) {
  const auto p =
      BuildProfile({{{"main.main", "main.a1", "main.a2"}, 5, "alpha"},
                    {{"main.main", "main.b1"}, 5, "beta"},
                    {{"main.main", "main.b2"}, 5, "beta"},
                    {{"main.main"}, 5, "gamma"}});
  const std::string svg = Svg(p, {.group_by_label = "phase"});
  EXPECT_TRUE(IsWellFormedXml(svg));
  const auto rects = FrameRects(svg);
  const double alpha = Hue(Only(rects, "phase=alpha").fill);
  const double beta = Hue(Only(rects, "phase=beta").fill);
  const double gamma = Hue(Only(rects, "phase=gamma").fill);
  EXPECT_NE(alpha, beta);
  EXPECT_NE(beta, gamma);
  EXPECT_NE(alpha, gamma);
  EXPECT_EQ(Hue(Only(rects, "main.a1").fill), alpha);
  EXPECT_EQ(Hue(Only(rects, "main.a2").fill), alpha);
  EXPECT_EQ(Hue(Only(rects, "main.b1").fill), beta);
  EXPECT_EQ(Hue(Only(rects, "main.b2").fill), beta);
  // main.main appears once under each group, each in the group's hue.
  std::set<double> main_hues;
  auto [lo, hi] = rects.equal_range("main.main");
  for (auto it = lo; it != hi; ++it) main_hues.insert(Hue(it->second.fill));
  EXPECT_EQ(main_hues, (std::set<double>{alpha, beta, gamma}));
  // Stable across runs and label sets: the hue depends on the value only.
  const auto alone = FrameRects(Svg(BuildProfile({{{"main.main"}, 1, "alpha"}}),
                                    {.group_by_label = "phase"}));
  EXPECT_EQ(Hue(Only(alone, "phase=alpha").fill), alpha);
}

TEST(FlameGraphSvgTest, UngroupedColoursByPackage) {
  const auto p =
      BuildProfile({{{"main.main", "net/http.(*conn).serve",
                      "net/http.HandlerFunc.ServeHTTP"},
                     1,
                     ""},
                    {{"main.main", "runtime.gcBgMarkWorker"}, 1, ""}});
  const auto rects = FrameRects(Svg(p));
  EXPECT_EQ(Only(rects, "net/http.(*conn).serve").fill,
            Only(rects, "net/http.HandlerFunc.ServeHTTP").fill);
  EXPECT_NE(Only(rects, "net/http.(*conn).serve").fill,
            Only(rects, "runtime.gcBgMarkWorker").fill);
  EXPECT_EQ(Only(rects, "main.main").fill.rfind("rgb(", 0), 0u);
}

TEST(FlameGraphSvgTest, EmptyProfileStillRenders) {
  const std::string svg = Svg(BuildProfile({}));
  EXPECT_TRUE(IsWellFormedXml(svg));
  EXPECT_NE(svg.find("No samples"), std::string::npos);
  EXPECT_TRUE(FrameRects(svg).empty());
}

TEST(FlameGraphSvgTest, DeepStacksDoNotRecurse) {
  std::vector<std::string> deep;
  for (int i = 0; i < 20000; ++i) deep.push_back("main.f" + std::to_string(i));
  const std::string svg = Svg(BuildProfile({{deep, 1, ""}}));
  EXPECT_EQ(FrameRects(svg).size(), 20001u);
}

}  // namespace
}  // namespace gspy
