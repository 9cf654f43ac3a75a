package alerts

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// grafanaVars: the dashboard's variables and Grafana's own, as Grafana
// substitutes them before the query reaches Prometheus.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "$exe", ".*", "$job", ".*")

var labelValuesRE = regexp.MustCompile(`^label_values\((.*), *[a-zA-Z_][a-zA-Z0-9_]*\)$`)

// testDashboard: dashboards/gspy.json is valid JSON; every panel query
// parses with Prometheus' parser, selects only metrics gspyd declared, and
// returns series over the real scrapes; every variable's query selects
// existing series.
func testDashboard(t *testing.T, r *run) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "helm", "gspy", "dashboards", "gspy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboards/gspy.json: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("uid %q, %d panels", dash.UID, len(dash.Panels))
	}
	q := newMemQueryable(r.series, r.scrapes)
	engine := newEngine()
	at := r.scrapes[len(r.scrapes)-1].at
	exprs := 0
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs++
			expr := grafanaVars.Replace(tg.Expr)
			for _, name := range metricNames(t, expr) {
				if !declaredName(r, name) {
					t.Errorf("panel %q: %s is not in gspyd's /metrics", p.Title, name)
				}
			}
			qry, err := engine.NewInstantQuery(context.Background(), q, nil, expr, at)
			if err != nil {
				t.Fatalf("panel %q: %q: %v", p.Title, expr, err)
			}
			res := qry.Exec(context.Background())
			if res.Err != nil {
				t.Errorf("panel %q: %q: %v", p.Title, expr, res.Err)
			} else if res.String() == "" {
				t.Errorf("panel %q: %q returns nothing over the real scrapes", p.Title, expr)
			}
			qry.Close()
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValuesRE.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
			continue
		}
		sel := grafanaVars.Replace(m[1])
		if _, err := parser.NewParser(parser.Options{}).ParseMetricSelector(sel); err != nil {
			t.Errorf("variable %s: %q: %v", v.Name, sel, err)
		}
		for _, name := range metricNames(t, sel) {
			if !declaredName(r, name) {
				t.Errorf("variable %s: %s is not in gspyd's /metrics", v.Name, name)
			}
		}
	}
	t.Logf("%d panels, %d queries checked at %v", len(dash.Panels), exprs, at.Format(time.TimeOnly))
}
