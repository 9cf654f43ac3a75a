package e2e

import (
	"math"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// Counters among the books' metrics: cumulative and not a histogram.
var booksCounters = map[string]bool{
	"/gc/cycles/automatic:gc-cycles": true, "/gc/cycles/forced:gc-cycles": true,
	"/gc/cycles/total:gc-cycles": true, "/sync/mutex/wait/total:seconds": true,
	"/cgo/go-to-c-calls:calls": true,
}

// booksPromName is client_golang's Go collector name for a runtime/metrics
// name, prefixed gspy_: every character but [a-zA-Z0-9_] becomes '_',
// counters end in _total.
func booksPromName(name string) string {
	n := "gspy_go" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
	if booksCounters[name] {
		n += "_total"
	}
	return n
}

// compareBooksMetrics checks one process's books series in a /metrics scrape
// against A and B as compareBooks does: scalars as float64(value), each
// runtime histogram as Prometheus buckets (le = some of the runtime
// buckets' upper boundaries, bit for bit, cumulative; the rest in +Inf). Returns whether the window was quiet.
func compareBooksMetrics(t *testing.T, minor, pid int, r booksRound, fams map[string]*dto.MetricFamily) bool {
	t.Helper()
	quiet := true
	sel := map[string]string{"pid": strconv.Itoa(pid)}
	for _, name := range booksMetricNames(minor) {
		a, b := r.A[name], r.B[name]
		prom := booksPromName(name)
		ms := series(fams, prom, sel)
		if len(ms) != 1 {
			t.Errorf("%s: %d series of %s for pid %d", name, len(ms), prom, pid)
			continue
		}
		m := ms[0]
		for _, l := range []string{"exe", "go_version"} {
			if _, ok := labelOf(m, l); !ok {
				t.Errorf("%s: no %s label", prom, l)
			}
		}
		switch a.Kind {
		case "uint64", "float64":
			var v float64
			switch {
			case m.Counter != nil && booksCounters[name]:
				v = m.GetCounter().GetValue()
			case m.Gauge != nil && !booksCounters[name]:
				v = m.GetGauge().GetValue()
			default:
				t.Errorf("%s: wrong type %v", prom, fams[prom].GetType())
				continue
			}
			fa, fb := float64(a.Uint64), float64(b.Uint64)
			if a.Kind == "float64" {
				fa, fb = parseF(t, a.Float64), parseF(t, b.Float64)
			}
			if fa == fb && math.Float64bits(v) != math.Float64bits(fa) {
				t.Errorf("%s: %v in /metrics, runtime/metrics %v", prom, v, fa)
			}
			if fa != fb {
				if !booksNoisy[name] {
					quiet = false
				}
				if !booksGauges[name] && (v < fa || v > fb) {
					t.Errorf("%s: %v outside [%v, %v]", prom, v, fa, fb)
				}
			}
		case "histogram":
			h := m.GetHistogram()
			if h == nil {
				t.Errorf("%s: not a histogram", prom)
				continue
			}
			// gspyd keeps a subset of Go's bounds (coarse by default: one per
			// doubling, see runtime_histogram.h); the parser lists +Inf as
			// the last bucket. Each bound kept must be one of Go's, bit for
			// bit, with Go's cumulative count at that bound.
			n := len(a.Counts)
			bks := h.GetBucket()
			if len(bks) == 0 || len(bks) > n || !math.IsInf(bks[len(bks)-1].GetUpperBound(), 1) {
				t.Errorf("%s: %d buckets (runtime/metrics has %d), the last not +Inf", prom, len(bks), n)
				continue
			}
			if strings.HasSuffix(name, ":seconds") && len(bks) > 26 {
				t.Errorf("%s: %d buckets, want the coarse ones (at most 26)", prom, len(bks))
			}
			var cumA, cumB uint64
			i := 0 // runtime bucket
			for _, bk := range bks {
				le := bk.GetUpperBound()
				for ; i < n; i++ {
					upper := parseF(t, a.Buckets[i+1])
					if !math.IsInf(le, 1) && upper > le {
						break
					}
					cumA += a.Counts[i]
					cumB += b.Counts[i]
					if a.Counts[i] != b.Counts[i] && !booksNoisy[name] {
						quiet = false
					}
					if upper == le {
						i++
						break
					}
				}
				if !math.IsInf(le, 1) && math.Float64bits(le) != math.Float64bits(parseF(t, a.Buckets[i])) {
					t.Errorf("%s: le=%v is not a runtime boundary (next %s)", prom, le, a.Buckets[i])
					break
				}
				if c := bk.GetCumulativeCount(); c < cumA || c > cumB {
					t.Errorf("%s: le=%v: %d outside [%d, %d]", prom, le, c, cumA, cumB)
					break
				}
			}
			if c := h.GetSampleCount(); c < cumA || c > cumB {
				t.Errorf("%s: count %d outside [%d, %d]", prom, c, cumA, cumB)
			}
		}
	}
	return quiet
}

// TestBooksMetricsExport: gspyd's /metrics carries every Go process's
// runtime/metrics values under client_golang's names (prefixed gspy_),
// parsed with Prometheus' own parser, equal to the target's metrics.Read at
// a quiet moment; and no books series is disabled.
func TestBooksMetricsExport(t *testing.T) {
	hh := env(t)
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0", "--metrics-gc=false", "--metrics-goroutines=false")
	for _, tc := range []booksCase{{"", "", nil}, {"go1.18.10", "-s -w", nil}, {"go1.22.12", "pie", nil}} {
		t.Run(tc.name(), func(t *testing.T) {
			bin := hh.buildWorkloadCgo(t, "books", tc.toolchain, tc.ldflags, true)
			p := startBooksWorkload(t, bin, tc.args...)
			minor, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(p.version, "go1."), ".", 2)[0])
			if err != nil {
				t.Fatalf("version %q: %v", p.version, err)
			}
			quiet := false
			var fams map[string]*dto.MetricFamily
			for i := 0; i < 8 && !quiet && !t.Failed(); i++ {
				r := p.sandwich(t, func() { fams = d.scrape(t) })
				quiet = compareBooksMetrics(t, minor, p.pid, r, fams)
			}
			if !quiet && !t.Failed() {
				t.Fatalf("no quiet window in 8 rounds")
			}
			for _, m := range series(fams, "gspy_go_books_series_disabled", map[string]string{"pid": strconv.Itoa(p.pid)}) {
				t.Errorf("a series was disabled: %v", m)
			}
		})
	}
}
