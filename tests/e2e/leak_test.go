package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// leakReport is `gspy goroutines --watch --format=json`.
type leakReport struct {
	Processes []struct {
		Pid       int         `json:"pid"`
		Snapshots int         `json:"snapshots"`
		Seconds   float64     `json:"seconds"`
		Groups    int         `json:"groups"`
		Note      string      `json:"note"`
		Growing   []leakGroup `json:"growing"`
		NotSteady []leakGroup `json:"not_steady"`
	} `json:"processes"`
	Warnings   []string `json:"warnings"`
	EndedEarly bool     `json:"ended_early"`
}

type leakGroup struct {
	CreatedBy string `json:"created_by"`
	CreatedAt string `json:"created_at"`
	Stack     []struct {
		Function string `json:"function"`
		File     string `json:"file"`
		Line     int    `json:"line"`
	} `json:"stack"`
	StartCount int     `json:"start_count"`
	EndCount   int     `json:"end_count"`
	MinCount   int     `json:"min_count"`
	MaxCount   int     `json:"max_count"`
	Rate       float64 `json:"rate_per_second"`
	R2         float64 `json:"r2"`
	State      string  `json:"state"`
	Goids      []int64 `json:"goids"`
	Reason     string  `json:"reason"`
}

// leakyProc is a running tests/workloads/leaky (started like every JSON-line
// workload, by startGcwork) and the "leaked" counts it has printed.
type leakyProc struct {
	*gcworkProc
	mu     sync.Mutex
	counts []leakCount // its "leaked" lines
}

type leakCount struct {
	n  int64
	at time.Time
}

func startLeaky(t *testing.T, bin string, args ...string) *leakyProc {
	t.Helper()
	p := &leakyProc{gcworkProc: startGcwork(t, bin, args...)}
	go func() {
		for ev := range p.lines {
			if ev["event"] != "leaked" {
				continue
			}
			p.mu.Lock()
			p.counts = append(p.counts, leakCount{int64(ev["n"].(float64)), time.Unix(0, int64(ev["unix_nanos"].(float64)))})
			p.mu.Unlock()
		}
	}()
	return p
}

// leakRate is the workload's own count of leaked goroutines over [from, to]:
// from its first line at or after `from` to its last at or before `to`.
func (p *leakyProc) leakRate(t *testing.T, from, to time.Time) float64 {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var first, last *leakCount
	for i := range p.counts {
		c := &p.counts[i]
		if c.at.Before(from) || c.at.After(to) {
			continue
		}
		if first == nil {
			first = c
		}
		last = c
	}
	if first == nil || last.at.Sub(first.at) < 5*time.Second {
		t.Fatalf("leaky printed too few counts between %v and %v", from, to)
	}
	return float64(last.n-first.n) / last.at.Sub(first.at).Seconds()
}

var snapshotLine = regexp.MustCompile(`(?m)^gspy: snapshot \d+/\d+ at \+[0-9.]+s: pid \d+ (\d+) goroutines$`)

// goroutineSwing is how far the process's goroutine count moved between
// gspy's snapshots (max - min), from its progress lines.
func goroutineSwing(t *testing.T, stderr string) int {
	t.Helper()
	lo, hi := math.MaxInt, 0
	for _, m := range snapshotLine.FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.Atoi(m[1])
		lo, hi = min(lo, n), max(hi, n)
	}
	if hi == 0 {
		t.Fatalf("no progress lines in gspy's stderr:\n%s", stderr)
	}
	return hi - lo
}

func parseLeakReport(t *testing.T, r gspyResult) leakReport {
	t.Helper()
	if r.exitCode != 0 {
		t.Fatalf("gspy goroutines --watch: exit %d; stderr:\n%s", r.exitCode, r.stderr)
	}
	var rep leakReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("the --format=json report does not parse: %v\n%s", err, r.stdout)
	}
	if len(rep.Processes) != 1 {
		t.Fatalf("the report has %d processes, want 1:\n%s", len(rep.Processes), r.stdout)
	}
	for _, g := range rep.Processes[0].NotSteady {
		t.Logf("not steady (a last-minus-first check would flag it): %s %v %d -> %d (min %d, max %d): %s",
			g.CreatedBy, stackNames(g), g.StartCount, g.EndCount, g.MinCount, g.MaxCount, g.Reason)
	}
	return rep
}

func stackNames(g leakGroup) []string {
	var out []string
	for _, f := range g.Stack {
		out = append(out, f.Function)
	}
	return out
}

// sourceLine is the number of the first line of path that contains text.
func sourceLine(t *testing.T, path, text string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, text) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", path, text)
	return 0
}

// checkTheLeak: exactly one growing group, the leak's code path.
func checkTheLeak(t *testing.T, rep leakReport) leakGroup {
	t.Helper()
	growing := rep.Processes[0].Growing
	for _, g := range growing {
		t.Logf("growing: %s at %s, stack %v, %d -> %d, %.2f/s, R2 %.4f, [%s], goids %v",
			g.CreatedBy, g.CreatedAt, stackNames(g), g.StartCount, g.EndCount, g.Rate, g.R2, g.State, g.Goids)
	}
	if len(growing) != 1 {
		t.Fatalf("%d growing groups reported, want 1 (the leak)", len(growing))
	}
	g := growing[0]
	goLine := fmt.Sprintf("leaky/main.go:%d", sourceLine(t, "../workloads/leaky/main.go", "go waitForReply("))
	if g.CreatedBy != "main.leakyHandler" || !strings.HasSuffix(g.CreatedAt, goLine) {
		t.Errorf("the growing group was created by %s at %s, want main.leakyHandler at %s", g.CreatedBy, g.CreatedAt, goLine)
	}
	if len(g.Stack) == 0 || g.Stack[0].Function != "main.waitForReply" {
		t.Errorf("the growing group's stack is %v, want main.waitForReply first", stackNames(g))
	}
	if g.State != "chan receive" {
		t.Errorf("the growing group waits in %q, want chan receive", g.State)
	}
	if len(g.Goids) != 5 {
		t.Errorf("%d sample goids, want 5", len(g.Goids))
	}
	return g
}

// TestGoroutineLeak: `gspy goroutines --watch` on tests/workloads/leaky,
// which leaks 20 goroutines a second through one code path amid churn that
// moves its goroutine count by ~100 (short tasks, request waves, batches that
// park on channels and are released, a worker pool). The leak, and only it,
// is reported, at the rate the workload counted; the same churn without the
// leak reports nothing; a process killed mid-watch ends the watch with what
// was seen.
func TestGoroutineLeak(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "leaky", "", "")

	t.Run("leak", func(t *testing.T) {
		p := startLeaky(t, bin, "-leak-rate=20")
		from := time.Now()
		r := hh.gspy(t, 60*time.Second, "goroutines", fmt.Sprintf("--pid=%d", p.pid),
			"--watch=12s", "--interval=1s", "--format=json")
		to := time.Now()
		rep := parseLeakReport(t, r)
		if n := rep.Processes[0].Snapshots; n != 13 {
			t.Errorf("%d snapshots, want 13", n)
		}
		g := checkTheLeak(t, rep)
		want := p.leakRate(t, from, to)
		t.Logf("leak rate: gspy %.3f/s, the workload's own count %.3f/s (%+.2f%%); goroutine count swung by %d",
			g.Rate, want, 100*(g.Rate-want)/want, goroutineSwing(t, r.stderr))
		if math.Abs(g.Rate-want) > 0.15*want {
			t.Errorf("reported rate %.2f/s, the workload leaked %.2f/s: more than 15%% off", g.Rate, want)
		}
		if g.R2 < 0.95 {
			t.Errorf("R2 %.3f for a leak at a constant rate", g.R2)
		}
		if grew := g.EndCount - g.StartCount; grew < 200 {
			t.Errorf("the leak grew by %d in 12 s, want about 240", grew)
		}
	})

	t.Run("steady", func(t *testing.T) {
		p := startLeaky(t, bin, "-leak-rate=0")
		r := hh.gspy(t, 60*time.Second, "goroutines", fmt.Sprintf("--pid=%d", p.pid),
			"--watch=12s", "--interval=1s")
		if r.exitCode != 0 {
			t.Fatalf("gspy goroutines --watch: exit %d; stderr:\n%s", r.exitCode, r.stderr)
		}
		t.Logf("report:\n%s", r.stdout)
		if !strings.Contains(r.stdout, fmt.Sprintf("pid %d (", p.pid)) || !strings.Contains(r.stdout, "13 snapshots over") {
			t.Errorf("the report does not say it took 13 snapshots of pid %d", p.pid)
		}
		if !strings.Contains(r.stdout, "no growing goroutine groups") || strings.Contains(r.stdout, "RATE/S") {
			t.Errorf("the steady workload is reported as growing")
		}
		// The churn is there: a count that moves, for the detector to ignore.
		if swing := goroutineSwing(t, r.stderr); swing < 50 {
			t.Errorf("the goroutine count moved by only %d: the churn did not run", swing)
		}
		if rate := p.leakRate(t, time.Now().Add(-13*time.Second), time.Now()); rate != 0 {
			t.Errorf("leaky -leak-rate=0 leaked %.1f/s", rate)
		}
	})

	t.Run("exit", func(t *testing.T) {
		p := startLeaky(t, bin, "-leak-rate=20")
		// Killed 7.5 s into the watch, timed from the line gspy prints as
		// its snapshot schedule starts: timed from gspy's launch, a busy
		// machine's slow start-up would shift the snapshots against the
		// kill and change how many come before it.
		var watching time.Time
		var kill *time.Timer
		r := hh.gspyOnStderr(t, 60*time.Second, "gspy: watching goroutines", func() {
			watching = time.Now()
			kill = time.AfterFunc(7500*time.Millisecond, func() { p.cmd.Process.Kill() })
		}, "goroutines", fmt.Sprintf("--pid=%d", p.pid), "--watch=40s", "--interval=1s", "--format=json")
		if kill == nil {
			t.Fatalf("gspy never said it was watching; stderr:\n%s", r.stderr)
		}
		kill.Stop()
		if el := time.Since(watching); el > 12*time.Second {
			t.Errorf("gspy took %v after the process was killed at 7.5 s of a 40 s watch", el)
		}
		rep := parseLeakReport(t, r)
		if !rep.EndedEarly || len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "NOT_FOUND") {
			t.Errorf("ended_early %v, warnings %q: want the watch to end early on NOT_FOUND", rep.EndedEarly, rep.Warnings)
		}
		if !strings.Contains(r.stderr, "gspy: warning: stopped after") {
			t.Errorf("no warning on stderr that the watch stopped early")
		}
		if n := rep.Processes[0].Snapshots; n < 7 || n > 9 {
			t.Errorf("%d snapshots before the kill at 7.5 s, want 7-9", n)
		}
		checkTheLeak(t, rep)
	})
}

// gspyOnStderr runs gspy against the shared gspyd like gspy(), and calls
// onLine (once, before it goes on reading) when gspy writes a stderr line
// holding `line`.
func (hh *harness) gspyOnStderr(t *testing.T, timeout time.Duration, line string, onLine func(), args ...string) gspyResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, hh.gspyBin, append([]string{"--server=" + hh.addr}, args...)...)
	var so bytes.Buffer
	cmd.Stdout = &so
	se, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("running gspy: %v", err)
	}
	var stderr strings.Builder
	sc := bufio.NewScanner(se)
	called := false
	for sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
		if !called && strings.Contains(sc.Text(), line) {
			called = true
			onLine()
		}
	}
	err = cmd.Wait()
	r := gspyResult{stdout: so.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	settleGspyRun(t, ctx, err, &r, args, timeout)
	return r
}
