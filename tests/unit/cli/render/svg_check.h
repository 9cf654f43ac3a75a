// Checks an SVG with a real XML parser (python3's minidom); the renderer's
// output must be well-formed XML, which a hand-written check would only
// approximate.
#ifndef GSPY_TESTS_UNIT_CLI_RENDER_SVG_CHECK_H_
#define GSPY_TESTS_UNIT_CLI_RENDER_SVG_CHECK_H_

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>

#include "tests/unit/profile/pprof/subprocess.h"

namespace gspy::testing {

inline ::testing::AssertionResult IsWellFormedXml(const std::string& svg) {
  const std::string dir = MakeTempDir();
  if (dir.empty()) return ::testing::AssertionFailure() << "no temp dir";
  const std::string path = dir + "/g.svg";
  WriteFile(path, svg);
  CommandResult r = RunCommand(
      "python3 -c 'import sys, xml.dom.minidom as m; "
      "d = m.parse(sys.argv[1]); "
      "assert d.documentElement.tagName == \"svg\"; "
      "print(len(d.getElementsByTagName(\"rect\")))' '" +
      path + "'");
  RunCommand("rm -rf '" + dir + "'");
  if (r.exit_code != 0) {
    return ::testing::AssertionFailure()
           << "python3/minidom rejected the SVG (is python3 installed?): "
           << r.output;
  }
  return ::testing::AssertionSuccess();
}

// Frame rectangles by full name (from each frame's <title>).
struct FrameRect {
  double x = 0, width = 0;
  int y = 0;
  std::string fill, text, title;
};

inline std::multimap<std::string, FrameRect> FrameRects(
    const std::string& svg) {
  static const std::regex kFrame(
      "<g class=\"frame\"><title>(.*?) \\(([^<]*)\\)</title><rect "
      "x=\"([0-9.]+)\" y=\"([0-9]+)\" width=\"([0-9.]+)\" [^>]*"
      "fill=\"([^\"]+)\"/>(?:<text [^>]*>([^<]*)</text>)?</g>");
  std::multimap<std::string, FrameRect> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), kFrame);
       it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    FrameRect f;
    f.title = m[2];
    f.x = std::stod(m[3]);
    f.y = std::stoi(m[4]);
    f.width = std::stod(m[5]);
    f.fill = m[6];
    f.text = m[7];
    out.emplace(m[1], f);
  }
  return out;
}

}  // namespace gspy::testing

#endif  // GSPY_TESTS_UNIT_CLI_RENDER_SVG_CHECK_H_
