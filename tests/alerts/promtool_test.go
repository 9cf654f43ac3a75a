package alerts

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promtoolVersion is the Prometheus whose promtool checks the rules, the
// same module version as this test's Go packages (go.mod).
const promtoolVersion = "v0.316.0"

// testPromtool: `promtool check rules` on the rendered rules and `promtool
// test rules` with the real scrapes as input_series (one a second, as they
// were taken): the GC-pause alert fires for the spiking workload only and
// the growth alert for the leak only.
func testPromtool(t *testing.T, r *run) {
	bin := os.Getenv("PROMTOOL_BIN")
	if bin == "" {
		var err error
		if bin, err = goInstall("github.com/prometheus/prometheus/cmd/promtool", promtoolVersion, "promtool"); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "gspy-rules.yaml")
	if err := os.WriteFile(rules, r.rulesText, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "check", "rules", rules).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	} else {
		t.Logf("promtool check rules:\n%s", out)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rule_files: [%s]\nevaluation_interval: %s\ntests:\n  - interval: %s\n    input_series:\n",
		strconv.Quote(rules), scrapeEvery, scrapeEvery)
	for _, s := range r.series {
		vals := make([]string, len(s.values))
		for i, v := range s.values {
			if v != v { // NaN: not in that scrape
				vals[i] = "_"
			} else {
				vals[i] = strconv.FormatFloat(v, 'g', -1, 64)
			}
		}
		fmt.Fprintf(&b, "      - series: %s\n        values: %s\n", strconv.Quote(s.labels.String()), strconv.Quote(strings.Join(vals, " ")))
	}
	evalTime := time.Duration(len(r.scrapes)-1) * scrapeEvery
	gc := fmt.Sprintf("%d|%d", r.spike.pid, r.calm.pid)
	growth := fmt.Sprintf("%d|%d", r.leak.pid, r.noleak.pid)
	fmt.Fprintf(&b, `    promql_expr_test:
      - expr: count by (alertname, pid) (ALERTS{alertstate="firing", alertname="GspyGoGcPauseP99High", pid=~"%s"})
        eval_time: %s
        exp_samples:
          - labels: '{alertname="GspyGoGcPauseP99High", pid="%d"}'
            value: 1
      - expr: count by (alertname, pid) (ALERTS{alertstate="firing", alertname="GspyGoGoroutineGrowth", pid=~"%s"})
        eval_time: %s
        exp_samples:
          - labels: '{alertname="GspyGoGoroutineGrowth", pid="%d"}'
            value: 1
      - expr: count(ALERTS{alertstate="firing", alertname="GspyDown"}) or vector(0)
        eval_time: %s
        exp_samples:
          - value: 0
`, gc, evalTime, r.spike.pid, growth, evalTime, r.leak.pid, evalTime)
	tests := filepath.Join(dir, "gspy-rules_test.yaml")
	if err := os.WriteFile(tests, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "test", "rules", tests).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
	t.Logf("promtool test rules (%d input series):\n%s", len(r.series), out)
}
