package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gcworkBuild builds tests/workloads/gcwork (see buildWorkload).
func (hh *harness) gcworkBuild(t *testing.T, toolchain string, ldflags string) string {
	t.Helper()
	return hh.buildWorkload(t, "gcwork", toolchain, ldflags)
}

// buildWorkload builds tests/workloads/NAME with a Go toolchain ("" for the
// installed one, else e.g. "go1.22.12", fetched through GOTOOLCHAIN), with
// -ldflags=ldflags, or -buildmode=pie when ldflags is "pie".
func (hh *harness) buildWorkload(t *testing.T, name, toolchain, ldflags string) string {
	t.Helper()
	return hh.buildWorkloadCgo(t, name, toolchain, ldflags, false)
}

// buildWorkloadCgo is buildWorkload with CGO_ENABLED=1 when cgo is set.
func (hh *harness) buildWorkloadCgo(t *testing.T, name, toolchain, ldflags string, cgo bool) string {
	t.Helper()
	key := name + "-" + toolchain + "-" + ldflags
	cgoEnabled := "0"
	if cgo {
		key += "-cgo"
		cgoEnabled = "1"
	}
	hh.buildMu.Lock()
	defer hh.buildMu.Unlock()
	if bin, ok := hh.builds[key]; ok {
		return bin
	}
	bin := filepath.Join(hh.buildDir, strings.NewReplacer(" ", "_", "=", "_").Replace(key))
	args := []string{"build", "-o", bin}
	switch {
	case ldflags == "pie":
		args = append(args, "-buildmode=pie")
	case ldflags != "":
		args = append(args, "-ldflags="+ldflags)
	}
	args = append(args, ".")
	cmd := exec.Command(hh.goBin, args...)
	cmd.Dir = filepath.Join(filepath.Dir(hh.cpuworkSrc), name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgoEnabled, "GOFLAGS=-buildvcs=false")
	if toolchain != "" {
		cmd.Env = append(cmd.Env, "GOTOOLCHAIN="+toolchain)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s with %q (ldflags %q): %v\n%s", name, toolchain, ldflags, err, b)
	}
	hh.builds[key] = bin
	return bin
}

// gcworkProc is a running gcwork, waiting for its go line.
type gcworkProc struct {
	cmd     *exec.Cmd
	pid     int
	version string
	stdin   io.WriteCloser
	lines   chan map[string]any
	stderr  *tailBuffer
	waited  bool
	ready   map[string]any // the ready event
}

func startGcwork(t *testing.T, bin string, args ...string) *gcworkProc {
	t.Helper()
	w := &gcworkProc{lines: make(chan map[string]any, 4), stderr: newTailBuffer(8 << 20)}
	w.cmd = exec.Command(bin, args...)
	w.cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	w.cmd.Stderr = w.stderr
	var err error
	if w.stdin, err = w.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		if !w.waited {
			w.cmd.Process.Kill()
			w.cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = map[string]any{"event": "bad-line", "line": sc.Text()}
			}
			w.lines <- ev
		}
		close(w.lines)
	}()
	ev := w.next(t, 30*time.Second)
	if ev["event"] != "ready" {
		t.Fatalf("gcwork: expected a ready line, got %v", ev)
	}
	w.pid = int(ev["pid"].(float64))
	w.version, _ = ev["go_version"].(string)
	w.ready = ev
	return w
}

func (w *gcworkProc) next(t *testing.T, timeout time.Duration) map[string]any {
	t.Helper()
	select {
	case ev, ok := <-w.lines:
		if !ok {
			w.cmd.Wait()
			w.waited = true
			t.Fatalf("gcwork exited early (%v); stderr:\n%s", w.cmd.ProcessState, w.stderr.String())
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("gcwork: no line within %v", timeout)
	}
	return nil
}

// gcWatch is a running `gspy gc`.
type gcWatch struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	mu             sync.Mutex
	attached       chan struct{}
	done           chan error
}

var watchingRE = regexp.MustCompile(`gspy: watching pid ([0-9]+) \((go[0-9.]+)\)`)

// startGcWatch runs `gspy gc` and waits until gspyd says the probes are
// attached.
func (hh *harness) startGcWatch(t *testing.T, args ...string) *gcWatch {
	t.Helper()
	g := &gcWatch{attached: make(chan struct{}), done: make(chan error, 1)}
	g.cmd = exec.Command(hh.gspyBin, append([]string{"--server=" + hh.addr, "gc"}, args...)...)
	g.cmd.Stdout = gcWatchStdout{g}
	se, err := g.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.cmd.Process.Kill()
	})
	go func() {
		sc := bufio.NewScanner(se)
		once := sync.Once{}
		for sc.Scan() {
			g.mu.Lock()
			g.stderr.WriteString(sc.Text() + "\n")
			g.mu.Unlock()
			if watchingRE.MatchString(sc.Text()) {
				once.Do(func() { close(g.attached) })
			}
		}
		g.done <- g.cmd.Wait()
	}()
	select {
	case <-g.attached:
	case err := <-g.done:
		t.Fatalf("gspy gc %s exited before attaching (%v); stderr:\n%s", strings.Join(args, " "), err, g.errText())
	case <-time.After(60 * time.Second):
		t.Fatalf("gspy gc: probes not attached within 60s; stderr:\n%s", g.errText())
	}
	return g
}

// gcWatchStdout writes the watch's stdout under its lock, so the test may
// read what it printed so far while it runs.
type gcWatchStdout struct{ g *gcWatch }

func (w gcWatchStdout) Write(p []byte) (int, error) {
	w.g.mu.Lock()
	defer w.g.mu.Unlock()
	return w.g.stdout.Write(p)
}

// waitCycles waits until the watch has printed pauses of n distinct GC
// cycles, and fails saying what it printed if that takes over `timeout`.
func (g *gcWatch) waitCycles(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		g.mu.Lock()
		out := g.stdout.String()
		g.mu.Unlock()
		cycles := map[string]bool{}
		for _, line := range strings.Split(out, "\n") {
			if m := pauseLineRE.FindStringSubmatch(line); m != nil {
				cycles[m[2]] = true
			}
		}
		if len(cycles) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gspy gc printed pauses of %d GC cycles within %v, want %d; stdout:\n%s", len(cycles), timeout, n, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (g *gcWatch) errText() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stderr.String()
}

func (g *gcWatch) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case err := <-g.done:
		if err != nil {
			t.Fatalf("gspy gc: %v; stderr:\n%s", err, g.errText())
		}
	case <-time.After(timeout):
		g.cmd.Process.Kill()
		t.Fatalf("gspy gc did not end within %v; stderr:\n%s", timeout, g.errText())
	}
}

var (
	pauseLineRE   = regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{6}  pid=(\d+)  cycle=(\d+)  (.+?) +([0-9.]+)us( \(probe times\))?$`)
	summaryLineRE = regexp.MustCompile(`^pauses=(\d+) total=([0-9.]+)us gc_pauses=(\d+) gc_total=([0-9.]+)us gc_cycles=(\d+) p50=([0-9.]+)us p99=([0-9.]+)us max=([0-9.]+)us lost_events=(\d+)$`)
	gctraceRE     = regexp.MustCompile(`^gc (\d+) @[0-9.]+s [0-9]+%: ([0-9.]+)\+([0-9.]+)\+([0-9.]+) ms clock`)
)

type gcSummary struct {
	pauses, gcPauses, gcCycles, lost  int64
	totalUs, gcTotalUs, p50, p99, max float64
}

type pauseLine struct {
	pid            int
	cycle          int64
	reason         string
	us             float64
	probeTimesOnly bool
}

func parseGcOutput(t *testing.T, out string) ([]pauseLine, gcSummary) {
	t.Helper()
	var pauses []pauseLine
	var s gcSummary
	found := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if m := pauseLineRE.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[1])
			cyc, _ := strconv.ParseInt(m[2], 10, 64)
			us, _ := strconv.ParseFloat(m[4], 64)
			pauses = append(pauses, pauseLine{pid, cyc, m[3], us, m[5] != ""})
			continue
		}
		if m := summaryLineRE.FindStringSubmatch(line); m != nil {
			found = true
			i := func(k int) int64 { v, _ := strconv.ParseInt(m[k], 10, 64); return v }
			f := func(k int) float64 { v, _ := strconv.ParseFloat(m[k], 64); return v }
			s = gcSummary{pauses: i(1), totalUs: f(2), gcPauses: i(3), gcTotalUs: f(4), gcCycles: i(5),
				p50: f(6), p99: f(7), max: f(8), lost: i(9)}
			continue
		}
		t.Errorf("gspy gc printed an unexpected line: %q", line)
	}
	if !found {
		t.Fatalf("gspy gc printed no summary line; stdout:\n%s", out)
	}
	return pauses, s
}

// gctraceWindow sums gctrace's STW clock times of cycles (before, after]:
// sweep termination (the first phase) and mark termination (the third).
func gctraceWindow(stderr string, before, after int64) (cycles int64, sweepMs, markMs float64) {
	for _, line := range strings.Split(stderr, "\n") {
		m := gctraceRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		if n <= before || n > after {
			continue
		}
		a, _ := strconv.ParseFloat(m[2], 64)
		c, _ := strconv.ParseFloat(m[4], 64)
		cycles++
		sweepMs += a
		markMs += c
	}
	return
}

func fdCount(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("reading gspyd's fds: %v", err)
	}
	return len(ents)
}

// fdCountWhen reads pid's fd count every 50 ms until ok holds, for up to
// 30 s, and returns the last count for the caller to judge. gspyd closes
// fds after it has answered (a gRPC connection, uprobe links the kernel
// releases one at a time), later still on a busy machine: one read after a
// fixed pause could see them before they are gone.
func fdCountWhen(t *testing.T, pid int, ok func(int) bool) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := fdCount(t, pid)
		if ok(n) || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runGcWindow runs one gcwork under `gspy gc` and compares what gspy saw
// with the workload's own runtime/metrics and gctrace.
// With readMemStats > 0 the workload also stops the world that many times
// for runtime.ReadMemStats, which gspy must name and count apart.
func runGcWindow(t *testing.T, hh *harness, bin, wantVersion string, readMemStats int) {
	w := startGcwork(t, bin, "-seconds=2", fmt.Sprintf("-readmemstats=%d", readMemStats))
	if wantVersion != "" && w.version != wantVersion {
		t.Fatalf("gcwork runs %s, want %s", w.version, wantVersion)
	}
	g := hh.startGcWatch(t, fmt.Sprintf("--pid=%d", w.pid), "--duration=60s")
	if _, err := io.WriteString(w.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	done := w.next(t, 60*time.Second)
	if done["event"] != "done" {
		t.Fatalf("gcwork: expected done, got %v", done)
	}
	w.cmd.Wait()
	w.waited = true
	// The workload exited: the stream must end on its own, cleanly.
	g.wait(t, 30*time.Second)
	pauses, s := parseGcOutput(t, g.stdout.String())
	if !strings.Contains(g.errText(), fmt.Sprintf("pid %d exited", w.pid)) {
		t.Errorf("gspy gc did not report that pid %d exited; stderr:\n%s", w.pid, g.errText())
	}

	goPauses := int64(done["pauses"].(float64))
	goCycles := int64(done["cycles"].(float64))
	goMid := done["pause_total_mid"].(float64) * 1e6 // us
	goLo := done["pause_total_lo"].(float64) * 1e6
	goHi := done["pause_total_hi"].(float64) * 1e6
	trCycles, trSweepMs, trMarkMs := gctraceWindow(w.stderr.String(), int64(done["numgc_before"].(float64)), int64(done["numgc_after"].(float64)))
	trMs := trSweepMs + trMarkMs
	probeOnly := 0
	var sweepUs, markUs float64
	for _, p := range pauses {
		if p.probeTimesOnly {
			probeOnly++
		}
		switch p.reason {
		case "GC sweep termination":
			sweepUs += p.us
		case "GC mark termination":
			markUs += p.us
		}
	}
	t.Logf("%s: gspy: %d pauses (%d GC, %d measured with probe times only), %d GC cycles, GC total %.1fus, p50 %.1fus p99 %.1fus max %.1fus",
		w.version, s.pauses, s.gcPauses, probeOnly, s.gcCycles, s.gcTotalUs, s.p50, s.p99, s.max)
	t.Logf("%s: runtime/metrics /sched/pauses/total/gc:seconds (before 1.22 /gc/pauses:seconds): %d pauses, total %.1fus (bucket midpoints; bounds %.1f..%.1f); /gc/cycles/total: %d cycles",
		w.version, goPauses, goMid, goLo, goHi, goCycles)
	t.Logf("%s: gctrace: %d cycles, STW clock total %.1fus (ratio gspy/gctrace %.3f); gspy/metrics total ratio %.4f",
		w.version, trCycles, trMs*1000, s.gcTotalUs/(trMs*1000), s.gcTotalUs/goMid)
	t.Logf("%s: sweep termination: gspy %.1fus, gctrace %.1fus (ratio %.3f); mark termination: gspy %.1fus, gctrace %.1fus (ratio %.3f)",
		w.version, sweepUs, trSweepMs*1000, sweepUs/(trSweepMs*1000), markUs, trMarkMs*1000, markUs/(trMarkMs*1000))
	oldGo := int64(done["other_pauses"].(float64)) < 0

	if goCycles < 20 {
		t.Fatalf("the workload ran only %d GC cycles; the comparison needs a GC-heavy window", goCycles)
	}
	if int64(len(pauses)) != s.pauses {
		t.Errorf("gspy printed %d pause lines but its summary says %d", len(pauses), s.pauses)
	}
	if s.gcPauses != goPauses {
		t.Errorf("gspy saw %d GC pauses; runtime/metrics counted %d", s.gcPauses, goPauses)
	}
	if s.gcCycles != goCycles {
		t.Errorf("gspy counted %d GC cycles; runtime/metrics counted %d", s.gcCycles, goCycles)
	}
	if trCycles != goCycles {
		t.Errorf("gctrace printed %d cycles in the window; runtime/metrics counted %d", trCycles, goCycles)
	}
	if oldGo {
		// Before 1.22 Go ends a sweep termination pause where gspy does
		// (startTheWorldWithSema's clock reading) but stops the clock of
		// mark termination before it restarts the world; gspy measures
		// until the world runs again, as Go 1.22+ does. So: sweep
		// termination within 10% of gctrace's phase (2-digit values), mark
		// termination at least Go's (and, as a sanity bound, under twice).
		if math.Abs(sweepUs-trSweepMs*1000) > 0.10*trSweepMs*1000 {
			t.Errorf("gspy's sweep termination total %.1fus is not within 10%% of gctrace's %.1fus", sweepUs, trSweepMs*1000)
		}
		if markUs < 0.9*trMarkMs*1000 || markUs > 2*trMarkMs*1000 {
			t.Errorf("gspy's mark termination total %.1fus is not between 0.9x and 2x gctrace's %.1fus", markUs, trMarkMs*1000)
		}
	} else {
		if math.Abs(s.gcTotalUs-goMid) > 0.10*goMid {
			t.Errorf("gspy's GC pause total %.1fus is not within 10%% of runtime/metrics' %.1fus", s.gcTotalUs, goMid)
		}
		// gctrace's sweep and mark termination clock phases contain each
		// pause (they start before stopTheWorldWithSema and end with the
		// world restarted); its values are cut to 2 digits.
		if s.gcTotalUs > 1.10*trMs*1000 {
			t.Errorf("gspy's GC pause total %.1fus exceeds gctrace's STW phases (%.1fus)", s.gcTotalUs, trMs*1000)
		}
	}
	if s.lost != 0 {
		t.Errorf("%d probe events were lost", s.lost)
	}
	var maxCycle int64
	memStatsPauses := 0
	for _, p := range pauses {
		if p.pid != w.pid {
			t.Errorf("pause of pid %d in a watch of pid %d", p.pid, w.pid)
		}
		switch p.reason {
		case "GC sweep termination", "GC mark termination":
		case "read mem stats":
			memStatsPauses++
		case "unknown":
			// Before Go 1.21 stops carry no reason; gcwork makes no
			// other than the GC's and ReadMemStats'.
			if !oldGo {
				t.Errorf("a pause of unknown reason on %s", w.version)
			}
			memStatsPauses++
		default:
			t.Errorf("unexpected STW reason %q (the workload stops the world only for GC and ReadMemStats)", p.reason)
		}
		if p.us <= 0 || p.us > 1e6 {
			t.Errorf("implausible pause %.1fus", p.us)
		}
		if p.cycle > maxCycle {
			maxCycle = p.cycle
		}
	}
	if memStatsPauses != readMemStats {
		t.Errorf("gspy saw %d \"read mem stats\" pauses; the workload called ReadMemStats %d times", memStatsPauses, readMemStats)
	}
	if other := int64(done["other_pauses"].(float64)); other >= 0 && s.pauses-s.gcPauses != other {
		t.Errorf("gspy saw %d non-GC pauses; /sched/pauses/total/other:seconds counted %d", s.pauses-s.gcPauses, other)
	}
	if maxCycle != goCycles {
		t.Errorf("the last pause belongs to cycle %d; the window had %d cycles", maxCycle, goCycles)
	}
	if s.max < s.p99 || s.p99 < s.p50 || s.p50 <= 0 {
		t.Errorf("summary quantiles out of order: p50 %.1f p99 %.1f max %.1f", s.p50, s.p99, s.max)
	}
}

// TestGcPausesMatchRuntimeMetrics: every GC stop-the-world pause gspy sees
// from outside matches the workload's own runtime/metrics over the same
// window (count exactly, total within 10%), for the installed Go, a stripped
// binary, and older releases. After all watches end, gspyd holds no more fds
// than before.
func TestGcPausesMatchRuntimeMetrics(t *testing.T) {
	hh := env(t)
	fdsBefore := fdCount(t, hh.daemon.Process.Pid)
	t.Run("installed-"+runtime.Version(), func(t *testing.T) {
		runGcWindow(t, hh, hh.gcworkBuild(t, "", ""), "", 0)
	})
	t.Run("stripped", func(t *testing.T) {
		runGcWindow(t, hh, hh.gcworkBuild(t, "", "-s -w"), "", 0)
	})
	t.Run("pie", func(t *testing.T) {
		runGcWindow(t, hh, hh.gcworkBuild(t, "", "pie"), "", 0)
	})
	t.Run("with-ReadMemStats", func(t *testing.T) {
		runGcWindow(t, hh, hh.gcworkBuild(t, "", ""), "", 25)
	})
	// Before 1.22 the workload's reference is /gc/pauses:seconds, and
	// before 1.21 Go passes no reason to stopTheWorldWithSema: gspy tells
	// the GC's stops by gcStart and gcMarkTermination.
	for _, v := range []string{"go1.18.10", "go1.20.14", "go1.21.13", "go1.22.12", "go1.23.12", "go1.24.13", "go1.25.14", "go1.27.4"} {
		t.Run(v, func(t *testing.T) {
			runGcWindow(t, hh, hh.gcworkBuild(t, v, ""), v, 5)
		})
	}
	if fdsAfter := fdCountWhen(t, hh.daemon.Process.Pid, func(n int) bool { return n == fdsBefore }); fdsAfter != fdsBefore {
		t.Errorf("gspyd had %d fds before the GC watches and %d after: probes leaked", fdsBefore, fdsAfter)
	}
}

// TestGcWatchTargetKilled: a target killed while its probes are attached
// ends the stream cleanly with a summary; the daemon keeps serving and holds
// no more fds than before.
func TestGcWatchTargetKilled(t *testing.T) {
	hh := env(t)
	bin := hh.gcworkBuild(t, "", "")
	fdsBefore := fdCount(t, hh.daemon.Process.Pid)
	w := startGcwork(t, bin, "-seconds=30")
	g := hh.startGcWatch(t, fmt.Sprintf("--pid=%d", w.pid), "--duration=60s")
	if fds := fdCount(t, hh.daemon.Process.Pid); fds <= fdsBefore {
		t.Errorf("gspyd holds %d fds with probes attached, %d before: expected the uprobe links to hold fds", fds, fdsBefore)
	}
	io.WriteString(w.stdin, "go\n")
	// Killed mid-run, once the watch has printed pauses of two cycles (so
	// one cycle has ended): after a fixed pause a busy machine may not
	// have run a GC yet.
	earliest := time.Now().Add(1500 * time.Millisecond)
	g.waitCycles(t, 2, 30*time.Second)
	time.Sleep(time.Until(earliest))
	w.cmd.Process.Signal(syscall.SIGKILL)
	w.cmd.Wait()
	w.waited = true
	start := time.Now()
	g.wait(t, 30*time.Second)
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("the stream took %v to end after the target was killed", el)
	}
	pauses, s := parseGcOutput(t, g.stdout.String())
	t.Logf("killed target: %d pauses, %d cycles before the kill", s.pauses, s.gcCycles)
	if len(pauses) == 0 || s.gcCycles == 0 {
		t.Errorf("no pauses or cycles seen before the kill")
	}
	if fdsAfter := fdCountWhen(t, hh.daemon.Process.Pid, func(n int) bool { return n == fdsBefore }); fdsAfter != fdsBefore {
		t.Errorf("gspyd had %d fds before and %d after the killed target's watch", fdsBefore, fdsAfter)
	}
	// Still serving: a second watch on a new process works.
	w2 := startGcwork(t, bin, "-seconds=1")
	g2 := hh.startGcWatch(t, fmt.Sprintf("--pid=%d", w2.pid), "--duration=30s")
	io.WriteString(w2.stdin, "go\n")
	done := w2.next(t, 60*time.Second)
	w2.cmd.Wait()
	w2.waited = true
	g2.wait(t, 30*time.Second)
	_, s2 := parseGcOutput(t, g2.stdout.String())
	if s2.gcPauses != int64(done["pauses"].(float64)) {
		t.Errorf("after the kill: gspy saw %d GC pauses, runtime/metrics %v", s2.gcPauses, done["pauses"])
	}
}

func TestGcErrors(t *testing.T) {
	hh := env(t)
	t.Run("unknown-pid", func(t *testing.T) {
		r := hh.gspy(t, 30*time.Second, "gc", fmt.Sprintf("--pid=%d", unusedPid(t)), "--duration=2s")
		expectRPCError(t, r, "NOT_FOUND")
	})
	t.Run("not-go", func(t *testing.T) {
		sleep := exec.Command("sleep", "100")
		if err := sleep.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { sleep.Process.Kill(); sleep.Wait() }()
		r := hh.gspy(t, 30*time.Second, "gc", fmt.Sprintf("--pid=%d", sleep.Process.Pid), "--duration=2s")
		msg := expectRPCError(t, r, "FAILED_PRECONDITION")
		t.Logf("message for sleep: %q", msg)
	})
	for _, d := range []string{"0s", "-1s", "100000s"} {
		t.Run("duration="+d, func(t *testing.T) {
			r := hh.gspy(t, 30*time.Second, "gc", fmt.Sprintf("--pid=%d", os.Getpid()), "--duration="+d)
			expectRPCError(t, r, "INVALID_ARGUMENT")
		})
	}
}

// TestGcWatchesOfOneBinary: two processes of one binary, watched by two
// streams. Each process has its own probes on the binary's file, scoped to
// it; each stream gets only its own process's pauses. The first watch ends
// while the second runs: detaching the first process's probes leaves the
// second's, so its counts still match its runtime/metrics.
func TestGcWatchesOfOneBinary(t *testing.T) {
	hh := env(t)
	bin := hh.gcworkBuild(t, "", "")
	fdsBefore := fdCount(t, hh.daemon.Process.Pid)
	w1 := startGcwork(t, bin, "-seconds=3")
	w2 := startGcwork(t, bin, "-seconds=3")
	g1 := hh.startGcWatch(t, fmt.Sprintf("--pid=%d", w1.pid), "--duration=1s")
	g2 := hh.startGcWatch(t, fmt.Sprintf("--pid=%d", w2.pid), "--duration=60s")
	io.WriteString(w1.stdin, "go\n")
	io.WriteString(w2.stdin, "go\n")
	g1.wait(t, 30*time.Second) // ends after 1s, mid-window
	p1, s1 := parseGcOutput(t, g1.stdout.String())
	done2 := w2.next(t, 60*time.Second)
	w1.next(t, 60*time.Second)
	for _, w := range []*gcworkProc{w1, w2} {
		w.cmd.Wait()
		w.waited = true
	}
	g2.wait(t, 30*time.Second)
	p2, s2 := parseGcOutput(t, g2.stdout.String())
	t.Logf("watch 1 (1s of pid %d): %d pauses; watch 2 (pid %d): %d pauses, %d cycles; pid %d's metrics: %v pauses, %v cycles",
		w1.pid, s1.pauses, w2.pid, s2.pauses, s2.gcCycles, w2.pid, done2["pauses"], done2["cycles"])
	for _, p := range p1 {
		if p.pid != w1.pid {
			t.Errorf("watch of pid %d got a pause of pid %d", w1.pid, p.pid)
		}
	}
	for _, p := range p2 {
		if p.pid != w2.pid {
			t.Errorf("watch of pid %d got a pause of pid %d", w2.pid, p.pid)
		}
	}
	if s1.pauses == 0 {
		t.Errorf("the 1s watch of pid %d saw no pause", w1.pid)
	}
	if s2.gcPauses != int64(done2["pauses"].(float64)) || s2.gcCycles != int64(done2["cycles"].(float64)) {
		t.Errorf("pid %d: gspy saw %d GC pauses, %d cycles; runtime/metrics %v pauses, %v cycles (did the first watch's end detach its probes?)",
			w2.pid, s2.gcPauses, s2.gcCycles, done2["pauses"], done2["cycles"])
	}
	if fdsAfter := fdCountWhen(t, hh.daemon.Process.Pid, func(n int) bool { return n == fdsBefore }); fdsAfter != fdsBefore {
		t.Errorf("gspyd had %d fds before and %d after two watches of one binary", fdsBefore, fdsAfter)
	}
}
