package deploy

import (
	"os"
	"regexp"
	"testing"
)

// TestVersionsAgree: gspy's version is set in the top CMakeLists.txt
// (project(gspy VERSION ...), what gspyd and gspy report); the chart's
// appVersion, which tags the image and names it in deploy/daemonset.yaml,
// must say the same.
func TestVersionsAgree(t *testing.T) {
	read := func(path string, re *regexp.Regexp) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no match for %s", path, re)
		}
		return string(m[1])
	}
	cmake := read("../../CMakeLists.txt", regexp.MustCompile(`(?m)^project\(gspy VERSION ([0-9][0-9.]*)`))
	app := read("../../helm/gspy/Chart.yaml", regexp.MustCompile(`(?m)^appVersion: *"?([^"\s]+)"?`))
	if cmake != app {
		t.Errorf("CMakeLists.txt says gspy %s, helm/gspy/Chart.yaml appVersion %s: the image would be tagged with another version than its binaries report", cmake, app)
	}
}
