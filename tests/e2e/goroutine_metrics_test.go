package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// goroutineSeries sums one process's gspy_go_goroutines by state and
// gspy_go_goroutines_waiting by reason.
func goroutineSeries(fams map[string]*dto.MetricFamily, pid int) (states, reasons map[string]int) {
	sel := map[string]string{"pid": strconv.Itoa(pid)}
	states, reasons = map[string]int{}, map[string]int{}
	for _, m := range series(fams, "gspy_go_goroutines", sel) {
		s, _ := labelOf(m, "state")
		states[s] += int(m.GetGauge().GetValue())
	}
	for _, m := range series(fams, "gspy_go_goroutines_waiting", sel) {
		r, _ := labelOf(m, "reason")
		reasons[r] += int(m.GetGauge().GetValue())
	}
	return states, reasons
}

// TestGoroutineStateMetrics: /metrics counts the goroutines of a process
// that parks 3250 of them in known ways, by state and by wait reason. The
// reasons equal what the workload built; on Go 1.26+, which counts
// goroutines by state itself (/sched/goroutines/*, system goroutines
// included), the total and the waiting count equal Go's, read by the
// workload at its quiescent moment.
func TestGoroutineStateMetrics(t *testing.T) {
	hh := env(t)
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0", "--metrics-gc=false")
	for _, tc := range []goroutineCase{{"", ""}, {"", "pie"}, {"go1.18.10", "-s -w"}, {"go1.24.13", ""}} {
		t.Run(tc.name(), func(t *testing.T) {
			bin := hh.buildWorkload(t, "goroutines", tc.toolchain, tc.ldflags)
			w := startGcwork(t, bin, "-profile="+filepath.Join(t.TempDir(), "go.txt"))

			// Retry until the counts settle: a background goroutine (a GC
			// worker, the scavenger) may be caught running by one scrape,
			// and a read cached before the workload parked everything is
			// replaced by the next. A count that never settles fails.
			var problems []string
			deadline := time.Now().Add(30 * time.Second)
			for {
				fams := d.scrape(t)
				states, reasons := goroutineSeries(fams, w.pid)
				if len(states) > 0 {
					var readSeconds float64
					if f := fams["gspy_goroutine_state_read_seconds"]; f != nil && len(f.GetMetric()) == 1 {
						readSeconds = f.GetMetric()[0].GetGauge().GetValue()
					}
					problems = checkGoroutineSeries(t, w, states, reasons, readSeconds)
					if len(problems) == 0 {
						break
					}
				} else {
					problems = []string{fmt.Sprintf("no gspy_go_goroutines series of pid %d", w.pid)}
				}
				if time.Now().After(deadline) {
					for _, p := range problems {
						t.Error(p)
					}
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
	}
	if !d.alive() {
		t.Fatal(fmt.Sprintf("gspyd exited:\n%s", d.log.String()))
	}
}

// checkGoroutineSeries compares one scrape's counts of the goroutines
// workload with what it built and, on Go 1.26+, with Go's own count read
// at its quiescent moment. It returns what disagrees.
func checkGoroutineSeries(t *testing.T, w *gcworkProc, states, reasons map[string]int, readSeconds float64) []string {
	var problems []string
	total := 0
	for _, n := range states {
		total += n
	}
	t.Logf("%s: gspy: %d goroutines, by state %v; waiting by reason %v; the scrape read goroutines for %.1f ms",
		w.version, total, states, reasons, readSeconds*1000)

	// What the workload built (the main goroutine holds the locks and
	// reads stdin). Since 1.24 (1.25 for WaitGroup) the sync waits have
	// names of their own; before, they are all "semacquire".
	want := map[string]int{
		"chan receive":   1000 + 100 + 400 + 100 + 1, // + recurse, labeled, children, spawner
		"chan send":      400,
		"select":         300,
		"sleep":          200,
		"sync.Cond.Wait": 100,
	}
	sync := map[string]int{"sync.Mutex.Lock": 300, "sync.RWMutex.RLock": 150, "sync.WaitGroup.Wait": 200}
	for name, n := range sync {
		if _, ok := reasons[name]; ok {
			want[name] = n
		} else {
			want["semacquire"] += n
		}
	}
	for name, n := range want {
		if reasons[name] != n {
			problems = append(problems, fmt.Sprintf("%s: %d goroutines waiting on %q, the workload parked %d", w.version, reasons[name], name, n))
		}
	}
	sum := 0
	for _, n := range reasons {
		sum += n
	}
	if sum != states["waiting"] {
		problems = append(problems, fmt.Sprintf("waiting by reason sums to %d, the waiting state counts %d", sum, states["waiting"]))
	}
	if n := states["running"] + states["runnable"] + states["syscall"]; n != 1 {
		problems = append(problems, fmt.Sprintf("%d goroutines running, runnable or in a system call, want 1 (main, reading stdin): %v", n, states))
	}

	goWaiting, ok := w.ready["/sched/goroutines/waiting:goroutines"].(float64)
	if !ok {
		t.Logf("%s has no /sched/goroutines/* metrics by state: compared by reason only", w.version)
		return problems
	}
	// Before 1.26 this one left the system goroutines out.
	goTotal := w.ready["/sched/goroutines:goroutines"].(float64)
	t.Logf("%s: Go's runtime/metrics: %v goroutines, %v waiting, %v running, %v runnable, %v not in Go",
		w.version, goTotal, goWaiting, w.ready["/sched/goroutines/running:goroutines"],
		w.ready["/sched/goroutines/runnable:goroutines"], w.ready["/sched/goroutines/not-in-go:goroutines"])
	if total != int(goTotal) {
		problems = append(problems, fmt.Sprintf("gspy counts %d goroutines, Go's /sched/goroutines:goroutines %v", total, goTotal))
	}
	// Go read its metrics while main ran, and counts as running every P
	// that runs something (a GC worker, the sweeper) and as runnable its
	// run queues' lengths: those goroutines have parked again by the time
	// gspy reads, while main is in a read system call. So gspy's waiting
	// is Go's plus at most Go's other running and runnable ones.
	goBusy := w.ready["/sched/goroutines/running:goroutines"].(float64) + w.ready["/sched/goroutines/runnable:goroutines"].(float64) - 1
	if n := states["waiting"]; n < int(goWaiting) || n > int(goWaiting+goBusy) {
		problems = append(problems, fmt.Sprintf("gspy counts %d waiting goroutines; Go's /sched/goroutines/waiting %v, plus %v others running or runnable then", n, goWaiting, goBusy))
	}
	return problems
}
