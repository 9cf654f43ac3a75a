package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/google/pprof/profile"
)

// captureLine is one line of `gspy captures list`.
type captureLine struct {
	id, rule, measured string
	at                 time.Time
	pid                int
}

// listCaptures runs `gspy captures list` and parses its lines (rules and
// executables without spaces: id, time, rule, "pid", N, exe, measured,
// bytes).
func listCaptures(t *testing.T, hh *harness, addr string) []captureLine {
	t.Helper()
	r := hh.gspyAt(t, addr, 30*time.Second, "captures", "list")
	if r.exitCode != 0 {
		t.Fatalf("gspy captures list: exit %d: %s", r.exitCode, r.stderr)
	}
	var out []captureLine
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "ID" || line == "no captures" {
			continue
		}
		if len(f) != 8 || f[3] != "pid" {
			t.Fatalf("gspy captures list: unexpected line %q in:\n%s", line, r.stdout)
		}
		at, err := time.Parse("2006-01-02T15:04:05.000Z", f[1])
		if err != nil {
			t.Fatalf("gspy captures list: time %q: %v", f[1], err)
		}
		pid, _ := strconv.Atoi(f[4])
		out = append(out, captureLine{id: f[0], at: at, rule: f[2], pid: pid, measured: f[6]})
	}
	return out
}

// capturesByRule sums gspy_captures_total{result} by rule in one scrape.
func capturesByRule(fams map[string]*dto.MetricFamily, name, result string) map[string]float64 {
	out := map[string]float64{}
	want := map[string]string{}
	if result != "" {
		want["result"] = result
	}
	for _, m := range series(fams, name, want) {
		rule, _ := labelOf(m, "rule")
		out[rule] += m.GetCounter().GetValue()
	}
	return out
}

// TestCaptures: gspyd --capture-rule on tests/workloads/spiky, which leaks
// 5000 goroutines in main.guiltyLeak on SIGUSR1. Three rules watch it; all
// must fire within 2 s of the signal, once each (the cooldown holds while
// the rules keep holding), the store keeps the newest two
// (--capture-max-count=2), a capture's dump holds the guilty goroutines
// (counted by the pprof package, against the workload's own count), and a
// restarted gspyd lists the same captures.
func TestCaptures(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "spiky", "", "")
	dir := t.TempDir()
	rules := []string{
		"goroutines>1000;exe=" + bin,
		"goroutines>2000;exe=" + bin,
		"goroutine_growth>500/s;exe=" + bin,
	}
	flags := []string{"--metrics-listen=127.0.0.1:0", "--capture-dir=" + dir,
		"--capture-max-count=2", "--capture-duration=1s",
		"--capture-cooldown=1m", "--capture-interval=250ms"}
	for _, r := range rules {
		flags = append(flags, "--capture-rule="+r)
	}
	d := startOwnDaemon(t, hh, flags...)
	w := startGcwork(t, bin)

	// Quiet: the rules look (evaluations grow) and nothing fires.
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := d.scrape(t)
		evals := capturesByRule(fams, "gspy_capture_rule_evaluations_total", "")
		if evals[rules[0]] >= 3 && evals[rules[2]] >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rules did not look at pid %d within 10s: evaluations %v", w.pid, evals)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if got := listCaptures(t, hh, d.addr); len(got) != 0 {
		t.Fatalf("captures before the cause: %v", got)
	}

	cause := time.Now()
	if err := syscall.Kill(w.pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	ev := w.next(t, 10*time.Second)
	if ev["event"] != "leaked" {
		t.Fatalf("spiky: expected a leaked line, got %v", ev)
	}
	leaked := int64(ev["n"].(float64))

	// Each capture takes its dump at once, then profiles for 1 s.
	deadline = time.Now().Add(20 * time.Second)
	var taken map[string]float64
	for {
		taken = capturesByRule(d.scrape(t), "gspy_captures_total", "taken")
		if taken[rules[0]]+taken[rules[1]]+taken[rules[2]] >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("three captures not taken within 20s of the cause: %v", taken)
		}
		time.Sleep(250 * time.Millisecond)
	}
	// The rules go on holding (the goroutines stay): no second capture
	// within the cooldown, the looks that held are counted as skipped.
	// Watch for at least 1.5 s (six looks), and until the first rule has
	// skipped twice: a busy machine may run fewer looks in 1.5 s.
	watchUntil := time.Now().Add(1500 * time.Millisecond)
	deadline = time.Now().Add(20 * time.Second)
	for time.Now().Before(watchUntil) || (capturesByRule(d.scrape(t), "gspy_capture_rule_cooldown_skips_total", "")[rules[0]] < 2 && time.Now().Before(deadline)) {
		time.Sleep(250 * time.Millisecond)
	}
	fams := d.scrape(t)
	taken = capturesByRule(fams, "gspy_captures_total", "taken")
	skips := capturesByRule(fams, "gspy_capture_rule_cooldown_skips_total", "")
	evicted := capturesByRule(fams, "gspy_captures_total", "evicted")
	failed := capturesByRule(fams, "gspy_captures_total", "failed")
	for _, r := range rules {
		if taken[r] != 1 {
			t.Errorf("rule %s: %v captures taken, want 1 (cooldown 1m)", r, taken[r])
		}
		if failed[r] != 0 {
			t.Errorf("rule %s: %v captures failed", r, failed[r])
		}
	}
	if skips[rules[0]] < 2 {
		t.Errorf("rule %s held on after its capture, but cooldown skips are %v", rules[0], skips[rules[0]])
	}
	if n := evicted[rules[0]] + evicted[rules[1]] + evicted[rules[2]]; n != 1 {
		t.Errorf("captures evicted by --capture-max-count=2: %v, want 1", n)
	}

	list := listCaptures(t, hh, d.addr)
	if len(list) != 2 {
		t.Fatalf("the store holds %d captures, want 2 (--capture-max-count=2): %v", len(list), list)
	}
	for _, c := range list {
		lag := c.at.Sub(cause)
		t.Logf("capture %s (%s, %s) %.0f ms after the cause", c.id, c.rule, c.measured, lag.Seconds()*1000)
		// The look before the signal may end just after it: a few ms early
		// at most.
		if lag < -50*time.Millisecond || lag > 2*time.Second {
			t.Errorf("capture %s fired %v after the cause, want within 2s", c.id, lag)
		}
		if c.pid != w.pid {
			t.Errorf("capture %s of pid %d, want %d", c.id, c.pid, w.pid)
		}
	}

	// The files: the dump holds the guilty goroutines.
	out := filepath.Join(t.TempDir(), "capture")
	r := hh.gspyAt(t, d.addr, 30*time.Second, "captures", "get", list[0].id, "-o", out)
	if r.exitCode != 0 {
		t.Fatalf("gspy captures get: exit %d: %s", r.exitCode, r.stderr)
	}
	for _, name := range []string{"goroutines.pb.gz", "cpu.pb.gz", "wall.pb.gz"} {
		f, err := os.Open(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := profile.Parse(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: not a pprof profile: %v", name, err)
		}
		if name != "goroutines.pb.gz" {
			continue
		}
		var guilty, total int64
		for _, s := range p.Sample {
			total += s.Value[0]
			for _, loc := range s.Location {
				for _, l := range loc.Line {
					if l.Function != nil && l.Function.Name == "main.guiltyLeak" {
						guilty += s.Value[0]
					}
				}
			}
		}
		// The dump is taken the moment the rule holds, which may be while
		// spiky is still starting them (it takes ~10 ms): all of them, or
		// most, and they are nearly all of the dump.
		t.Logf("the dump holds %d goroutines, %d in main.guiltyLeak (spiky leaked %d)", total, guilty, leaked)
		if guilty > leaked || guilty < 1000 || float64(guilty) < 0.95*float64(total) {
			t.Errorf("the dump holds %d goroutines in main.guiltyLeak out of %d, want over 1000, at most the %d spiky leaked, and 95%% of the dump", guilty, total, leaked)
		}
	}
	books, err := os.ReadFile(filepath.Join(out, "books.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(books), fmt.Sprintf("the runtime's books of pid %d", w.pid)) ||
		!strings.Contains(string(books), "/sched/gomaxprocs:threads") {
		t.Errorf("books.txt lacks the runtime's books:\n%s", books)
	}

	// A restart keeps the store.
	ids := func(l []captureLine) []string {
		var s []string
		for _, c := range l {
			s = append(s, c.id)
		}
		sort.Strings(s)
		return s
	}
	// The workload goes first: its goroutines would still hold the rules,
	// and the rule whose capture the store evicted has no cooldown to carry
	// over (TestCaptureCooldownSurvivesRestart restarts with the workload
	// running).
	w.cmd.Process.Kill()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		t.Fatal("gspyd did not stop within 15s")
	}
	d2 := startOwnDaemon(t, hh, flags...)
	after := listCaptures(t, hh, d2.addr)
	if strings.Join(ids(after), " ") != strings.Join(ids(list), " ") {
		t.Errorf("after a restart the store lists %v, want %v", ids(after), ids(list))
	}
}

// TestCaptureOnGcPause: a gc_pause rule, read from the runtime's pause ring,
// fires when spiky runs a garbage collection on SIGUSR2 (a quiet process
// that does not collect on its own), within 2 s, and its books hold the
// pause it saw.
func TestCaptureOnGcPause(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "spiky", "", "")
	rule := "gc_pause>0ns;exe=" + bin
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0",
		"--capture-dir="+t.TempDir(), "--capture-duration=1s",
		"--capture-interval=250ms", "--capture-rule="+rule)
	w := startGcwork(t, bin)
	deadline := time.Now().Add(10 * time.Second)
	for capturesByRule(d.scrape(t), "gspy_capture_rule_evaluations_total", "")[rule] < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the rule did not look at pid %d within 10s", w.pid)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if got := listCaptures(t, hh, d.addr); len(got) != 0 {
		t.Fatalf("captures before any GC: %v", got)
	}
	cause := time.Now()
	if err := syscall.Kill(w.pid, syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	if ev := w.next(t, 10*time.Second); ev["event"] != "gc" {
		t.Fatalf("spiky: expected a gc line, got %v", ev)
	}
	deadline = time.Now().Add(15 * time.Second)
	var list []captureLine
	for len(list) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no capture within 15s of the GC")
		}
		time.Sleep(250 * time.Millisecond)
		list = listCaptures(t, hh, d.addr)
	}
	c := list[0]
	if lag := c.at.Sub(cause); lag < -50*time.Millisecond || lag > 2*time.Second {
		t.Errorf("capture %s fired %v after the GC, want within 2s", c.id, lag)
	}
	if !strings.HasPrefix(c.measured, "gc_pause=") {
		t.Errorf("capture %s measured %q, want a gc_pause", c.id, c.measured)
	}
	out := filepath.Join(t.TempDir(), "capture")
	if r := hh.gspyAt(t, d.addr, 30*time.Second, "captures", "get", c.id, "-o", out); r.exitCode != 0 {
		t.Fatalf("gspy captures get: exit %d: %s", r.exitCode, r.stderr)
	}
	books, err := os.ReadFile(filepath.Join(out, "books.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(books), "/gc/cycles/forced:gc-cycles 1") {
		t.Errorf("books.txt does not count the forced GC:\n%s", books)
	}
}
