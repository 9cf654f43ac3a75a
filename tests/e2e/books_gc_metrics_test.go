package e2e

import (
	"io"
	"strconv"
	"testing"
	"time"
)

// TestMetricsGcFromBooks: by default gspyd's GC series come from the
// runtime's books, with no uprobe attached (no GC watch): over gcwork's
// window gspy_go_gc_cycles_total and gspy_go_gc_pause_seconds' count rise
// exactly as the process's own runtime/metrics count, the sum within the
// workload's bounds, for a Go version with /sched/pauses (installed) and
// one with only /gc/pauses (go1.21).
func TestMetricsGcFromBooks(t *testing.T) {
	hh := env(t)
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0", "--metrics-goroutines=false")
	for _, toolchain := range []string{"", "go1.21.13"} {
		name := toolchain
		if name == "" {
			name = "installed"
		}
		t.Run(name, func(t *testing.T) {
			w := startGcwork(t, hh.gcworkBuild(t, toolchain, ""), "-seconds=2", "-linger=30s")
			before := awaitGcNumbers(t, d, w.pid)
			if _, err := io.WriteString(w.stdin, "go\n"); err != nil {
				t.Fatal(err)
			}
			ev := w.next(t, 60*time.Second)
			if ev["event"] != "done" {
				t.Fatalf("gcwork: expected done, got %v", ev)
			}
			fams := d.scrape(t)
			after, ok := gcNumbersOf(t, fams, w.pid)
			if !ok {
				t.Fatalf("the GC series of pid %d were gone right after its done line (books errors %v, disabled %v)", w.pid,
					series(fams, "gspy_go_books_errors_total", nil), series(fams, "gspy_go_books_series_disabled", nil))
			}
			wantCycles := uint64(ev["cycles"].(float64))
			wantPauses := uint64(ev["pauses"].(float64))
			gotSum := after.pauseSum - before.pauseSum
			t.Logf("gcwork %s: runtime/metrics cycles=%d gc_pauses=%d; gspy +%d cycles, +%d pauses, sum +%.6fs [%v, %v]",
				w.version, wantCycles, wantPauses, after.cycles-before.cycles, after.pauses-before.pauses,
				gotSum, ev["pause_total_lo"], ev["pause_total_hi"])
			if wantCycles == 0 || wantPauses == 0 {
				t.Fatalf("gcwork ran no GC: %v", ev)
			}
			if got := after.cycles - before.cycles; got != wantCycles {
				t.Errorf("gspy_go_gc_cycles_total rose by %d, runtime/metrics by %d", got, wantCycles)
			}
			if got := after.pauses - before.pauses; got != wantPauses {
				t.Errorf("gspy_go_gc_pause_seconds_count rose by %d, runtime/metrics by %d", got, wantPauses)
			}
			if lo, hi := ev["pause_total_lo"].(float64), ev["pause_total_hi"].(float64); gotSum < lo*0.99 || gotSum > hi*1.01 {
				t.Errorf("gspy_go_gc_pause_seconds_sum rose by %.6fs, outside [%.6f, %.6f]", gotSum, lo, hi)
			}
			// No uprobes: no GC watch, no reasons.
			if ws := series(fams, "gspy_gc_watched_processes", nil); len(ws) != 1 || ws[0].GetGauge().GetValue() != 0 {
				t.Errorf("gspy_gc_watched_processes %v, want 0 (no GC probes by default)", ws)
			}
			if rs := series(fams, "gspy_go_stw_pauses_total", map[string]string{"pid": strconv.Itoa(w.pid)}); len(rs) != 0 {
				t.Errorf("gspy_go_stw_pauses_total without probes: %v", rs)
			}
		})
	}
}
