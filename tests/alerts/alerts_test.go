package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
)

// The scrapes: every scrapeEvery, scrapeCount times (about 30 s). The
// rules are rendered with windows and `for` scaled to that (testValues);
// thresholds are the chart's defaults but where testValues says.
const (
	scrapeEvery = time.Second
	scrapeCount = 30
)

// testValues: the rules' windows and `for` shrunk from minutes to seconds
// so that 30 one-second scrapes cover them. The goroutine-growth threshold
// is raised from 1/s to 10/s: over a 20 s window the least-squares slope of
// leaky's churn (arrivals swinging 20-180/s every 4 s, batches every 5 s)
// is a few per second, which 15 minutes average away; the leak is 50/s.
var testValues = []string{
	"prometheusRule.window=8s",
	"prometheusRule.goroutineGrowth.window=20s",
	"prometheusRule.goroutineGrowth.threshold=10",
	"prometheusRule.gcPauseP99.for=4s",
	"prometheusRule.schedLatencyP99.for=4s",
	"prometheusRule.mutexWait.for=4s",
	"prometheusRule.goroutineGrowth.for=4s",
	"prometheusRule.eventsLost.for=4s",
	"prometheusRule.booksSeriesDisabled.for=4s",
	"prometheusRule.readErrors.for=4s",
	"prometheusRule.scrapeIncomplete.for=4s",
	"prometheusRule.pushDropping.for=4s",
	"prometheusRule.requestsRefused.for=4s",
	"prometheusRule.down.for=4s",
	"prometheusRule.job=gspy",
}

// run is what one real gspyd exported while the workloads ran.
type run struct {
	scrapes                   []scrape
	series                    []*series
	spike, calm, leak, noleak *workload
	declared                  map[string]bool
	rulesFile                 string // the rendered rules, a file
	rulesText                 []byte
}

func TestAlerts(t *testing.T) {
	r := record(t)
	t.Run("RulesParse", func(t *testing.T) { testRulesParse(t, r) })
	t.Run("MetricsExist", func(t *testing.T) { testRuleMetricsExist(t, r) })
	t.Run("Fire", func(t *testing.T) { testFire(t, r) })
	t.Run("Dashboard", func(t *testing.T) { testDashboard(t, r) })
	if os.Getenv("GSPY_PROMTOOL") == "1" {
		t.Run("Promtool", func(t *testing.T) { testPromtool(t, r) })
	} else {
		t.Log("promtool check/test rules not run: GSPY_PROMTOOL=1 builds promtool and runs them (tests/alerts/CMakeLists.txt)")
	}
}

// record runs gspyd and the workloads and scrapes /metrics.
func record(t *testing.T) *run {
	r := &run{declared: map[string]bool{}}
	r.rulesText = renderRules(t, testValues...)
	r.rulesFile = filepath.Join(t.TempDir(), "gspy-rules.yaml")
	if err := os.WriteFile(r.rulesFile, r.rulesText, 0o644); err != nil {
		t.Fatal(err)
	}
	pausework := buildWorkload(t, filepath.Join(repoRoot(t), "tests", "alerts", "pausework"), "pausework")
	leaky := buildWorkload(t, filepath.Join(repoRoot(t), "tests", "workloads", "leaky"), "leaky")
	// GC pauses of up to 300 ms: a loop nothing can preempt.
	r.spike = startWorkload(t, pausework, []string{"GODEBUG=asyncpreemptoff=1"}, "-spin=300ms")
	// The same allocation, nothing in the way of the GC; one P, so a
	// stop-the-world waits for no other thread of a busy machine.
	r.calm = startWorkload(t, pausework, []string{"GOMAXPROCS=1"})
	r.leak = startWorkload(t, leaky, nil, "-leak-rate=50")
	r.noleak = startWorkload(t, leaky, nil, "-leak-rate=0")
	// Continuous mode against a port nothing listens on, one try per
	// profile: every profile is dropped (retries_exhausted).
	addr := startGspyd(t, "--push-pyroscope-url=http://127.0.0.1:9", "--push-interval=1s",
		"--push-max-attempts=1", "--push-exe="+pausework)
	pids := []int{r.spike.pid, r.calm.pid, r.leak.pid, r.noleak.pid}
	deadline := time.Now().Add(60 * time.Second)
	for {
		sc := scrapeOnce(t, addr)
		if havePids(sc, "gspy_go_gc_pause_seconds", pids) && havePids(sc, "gspy_go_goroutines", pids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gspyd did not export the GC and goroutine series of pids %v within 60 s", pids)
		}
		time.Sleep(500 * time.Millisecond)
	}
	tick := time.NewTicker(scrapeEvery)
	defer tick.Stop()
	for range scrapeCount {
		<-tick.C
		sc := scrapeOnce(t, addr)
		r.scrapes = append(r.scrapes, sc)
		for n := range sc.declared {
			r.declared[n] = true
		}
	}
	r.series = toSeries(r.scrapes, "gspy", addr)
	t.Logf("%d scrapes, %d series; pids spike %d calm %d leak %d noleak %d",
		len(r.scrapes), len(r.series), r.spike.pid, r.calm.pid, r.leak.pid, r.noleak.pid)
	return r
}

func havePids(sc scrape, family string, pids []int) bool {
	seen := map[string]bool{}
	for _, m := range sc.families[family].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "pid" {
				seen[lp.GetValue()] = true
			}
		}
	}
	for _, p := range pids {
		if !seen[strconv.Itoa(p)] {
			return false
		}
	}
	return true
}

func parseRules(t *testing.T, r *run) *rulefmt.RuleGroups {
	t.Helper()
	groups, errs := rulefmt.Parse(r.rulesText, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.Default())
	if len(errs) > 0 {
		t.Fatalf("the rendered rules do not validate (rulefmt, what promtool check rules runs): %v\n%s", errs, r.rulesText)
	}
	return groups
}

// testRulesParse: the rules validate as Prometheus loads them (expressions,
// durations, label names, annotation templates), and every one has a
// severity and a summary and description.
func testRulesParse(t *testing.T, r *run) {
	groups := parseRules(t, r)
	n := 0
	for _, g := range groups.Groups {
		for _, rule := range g.Rules {
			n++
			if rule.Alert == "" {
				t.Errorf("group %s: a rule that is not an alert: %+v", g.Name, rule)
			}
			if rule.Labels["severity"] == "" || rule.Annotations["summary"] == "" || rule.Annotations["description"] == "" {
				t.Errorf("%s: severity %q, summary %q, description %q", rule.Alert, rule.Labels["severity"],
					rule.Annotations["summary"], rule.Annotations["description"])
			}
		}
	}
	if n < 8 {
		t.Errorf("%d rules", n)
	}
}

// metricNames returns the metric names an expression selects.
func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

// declaredName: a series name gspyd's /metrics declares (a histogram's
// _bucket, _sum and _count by its family).
func declaredName(r *run, name string) bool {
	if r.declared[name] {
		return true
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suf); ok && r.declared[base] {
			return true
		}
	}
	return false
}

// testRuleMetricsExist: every metric a rule selects is one gspyd declared
// in these scrapes (up, Prometheus' own, aside).
func testRuleMetricsExist(t *testing.T, r *run) {
	for _, g := range parseRules(t, r).Groups {
		for _, rule := range g.Rules {
			for _, name := range metricNames(t, rule.Expr) {
				if name != "up" && !declaredName(r, name) {
					t.Errorf("%s selects %s, which gspyd's /metrics does not have", rule.Alert, name)
				}
			}
		}
	}
}

func newEngine() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
}

// evaluate runs every rule as Prometheus' rule manager does, at each
// scrape's time (an evaluation interval of scrapeEvery), and returns the
// alerts firing after the last.
func evaluate(t *testing.T, r *run) map[string][]*rules.Alert {
	t.Helper()
	q := newMemQueryable(r.series, r.scrapes)
	query := rules.EngineQueryFunc(newEngine(), q)
	firing := map[string][]*rules.Alert{}
	for _, g := range parseRules(t, r).Groups {
		for _, rr := range g.Rules {
			expr, err := parser.NewParser(parser.Options{}).ParseExpr(rr.Expr)
			if err != nil {
				t.Fatal(err)
			}
			rule := rules.NewAlertingRule(rr.Alert, expr, time.Duration(rr.For), time.Duration(rr.KeepFiringFor),
				labels.FromMap(rr.Labels), labels.FromMap(rr.Annotations), labels.EmptyLabels(), "", true, slog.Default())
			for _, sc := range r.scrapes {
				if _, err := rule.Eval(context.Background(), 0, sc.at.Add(time.Millisecond), query, nil, 0); err != nil {
					t.Fatalf("%s at %v: %v", rr.Alert, sc.at, err)
				}
			}
			for _, a := range rule.ActiveAlerts() {
				if a.State == rules.StateFiring {
					firing[rr.Alert] = append(firing[rr.Alert], a)
				}
			}
		}
	}
	return firing
}

func pidsOf(alerts []*rules.Alert) []int {
	var pids []int
	for _, a := range alerts {
		if p, err := strconv.Atoi(a.Labels.Get("pid")); err == nil {
			pids = append(pids, p)
		}
	}
	slices.Sort(pids)
	return pids
}

// testFire: over the real scrapes, the GC-pause alert fires for the
// spiking workload and not the calm one, the goroutine-growth alert for
// the leak and not the churn without one, the push alert for the dead
// backend, and GspyDown not at all; every annotation expands.
func testFire(t *testing.T, r *run) {
	firing := evaluate(t, r)
	for name, as := range firing {
		for _, a := range as {
			t.Logf("firing %s %s value %.4g: %s", name, a.Labels, a.Value, a.Annotations.Get("summary"))
			a.Annotations.Range(func(l labels.Label) {
				if strings.Contains(l.Value, "error expanding") || strings.Contains(l.Value, "<no value>") {
					t.Errorf("%s annotation %s: %q", name, l.Name, l.Value)
				}
			})
		}
	}
	gc := pidsOf(firing["GspyGoGcPauseP99High"])
	if !slices.Contains(gc, r.spike.pid) {
		t.Errorf("GspyGoGcPauseP99High does not fire for the spiking workload (pid %d); firing for %v", r.spike.pid, gc)
	}
	if slices.Contains(gc, r.calm.pid) {
		t.Errorf("GspyGoGcPauseP99High fires for the calm workload (pid %d)", r.calm.pid)
	}
	growth := pidsOf(firing["GspyGoGoroutineGrowth"])
	if !slices.Contains(growth, r.leak.pid) {
		t.Errorf("GspyGoGoroutineGrowth does not fire for the leak (pid %d); firing for %v", r.leak.pid, growth)
	}
	for _, w := range []*workload{r.noleak, r.spike, r.calm} {
		if slices.Contains(growth, w.pid) {
			t.Errorf("GspyGoGoroutineGrowth fires for pid %d, which does not leak", w.pid)
		}
	}
	if as := firing["GspyPushDropping"]; len(as) != 1 || as[0].Labels.Get("backend") != "pyroscope" {
		t.Errorf("GspyPushDropping: %v, want one alert for backend pyroscope (nothing listens there)", as)
	}
	if as := firing["GspyDown"]; len(as) != 0 {
		t.Errorf("GspyDown fires: %v", as)
	}
	// The values behind the assertions, for the record (windows as in
	// testValues).
	t.Logf("GC pause p99 alert pids %v; growth alert pids %v", gc, growth)
	q := newMemQueryable(r.series, r.scrapes)
	at := r.scrapes[len(r.scrapes)-1].at
	for _, w := range []*workload{r.spike, r.calm, r.leak, r.noleak} {
		for _, expr := range []string{
			fmt.Sprintf(`histogram_quantile(0.99, rate(gspy_go_gc_pause_seconds_bucket{pid="%d"}[8s]))`, w.pid),
			fmt.Sprintf(`sum without (state) (deriv(gspy_go_goroutines{pid="%d"}[20s]))`, w.pid),
		} {
			qry, err := newEngine().NewInstantQuery(context.Background(), q, nil, expr, at)
			if err != nil {
				t.Fatal(err)
			}
			res := qry.Exec(context.Background())
			t.Logf("%s = %v", expr, res.Value)
			qry.Close()
		}
	}
}
