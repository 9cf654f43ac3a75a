package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// stopOwnDaemon stops gspyd as an operator would (SIGTERM) and waits.
func stopOwnDaemon(t *testing.T, d *ownDaemon) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		t.Fatal("gspyd did not stop within 15s")
	}
}

// waitRuleLooks waits until `rule` read its metric of the workload n times.
func waitRuleLooks(t *testing.T, d *ownDaemon, rule string, n float64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for capturesByRule(d.scrape(t), "gspy_capture_rule_evaluations_total", "")[rule] < n {
		if time.Now().After(deadline) {
			t.Fatalf("the rule %s did not look %v times within 15s", rule, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitCaptures polls `gspy captures list` until it holds n captures.
func waitCaptures(t *testing.T, hh *harness, d *ownDaemon, n int, within time.Duration) []captureLine {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		list := listCaptures(t, hh, d.addr)
		if len(list) >= n {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d captures within %v, want %d: %v", len(list), within, n, list)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// guiltyShare is the share of a CPU profile's samples whose stack holds
// `function`.
func guiltyShare(t *testing.T, path, function string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("%s: not a pprof profile: %v", path, err)
	}
	var guilty, total int64
	for _, s := range p.Sample {
		total += s.Value[0]
		found := false
		for _, loc := range s.Location {
			for _, l := range loc.Line {
				found = found || (l.Function != nil && l.Function.Name == function)
			}
		}
		if found {
			guilty += s.Value[0]
		}
	}
	if total == 0 {
		t.Fatalf("%s: no samples", path)
	}
	return float64(guilty) / float64(total)
}

// TestCaptureCooldownSurvivesRestart: a goroutines rule fires on spiky's
// leak; gspyd restarts while the rule still holds, and the new gspyd reads
// the cooldown back from the store (the capture names the rule, the pid and
// the process's start time): no second capture until the cooldown of the
// first is over, then one at once.
func TestCaptureCooldownSurvivesRestart(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "spiky", "", "")
	const cooldown = 20 * time.Second
	rule := "goroutines>1000;exe=" + bin
	flags := []string{"--metrics-listen=127.0.0.1:0", "--capture-dir=" + t.TempDir(),
		"--capture-duration=1s", "--capture-cooldown=" + cooldown.String(),
		"--capture-interval=250ms", "--capture-rule=" + rule}
	d := startOwnDaemon(t, hh, flags...)
	w := startGcwork(t, bin)
	waitRuleLooks(t, d, rule, 3)
	if err := syscall.Kill(w.pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if ev := w.next(t, 10*time.Second); ev["event"] != "leaked" {
		t.Fatalf("spiky: expected a leaked line, got %v", ev)
	}
	first := waitCaptures(t, hh, d, 1, 10*time.Second)[0]
	// Stored once its profile (1 s) is done.
	deadline := time.Now().Add(10 * time.Second)
	for capturesByRule(d.scrape(t), "gspy_captures_total", "taken")[rule] < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the capture was not stored within 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopOwnDaemon(t, d)
	restarted := time.Now()
	d2 := startOwnDaemon(t, hh, flags...)
	t.Logf("gspyd restarted %.1f s after the first capture", restarted.Sub(first.at).Seconds())

	// The rule holds at every look of the new gspyd, within the cooldown:
	// skipped, not captured.
	end := first.at.Add(cooldown - 1500*time.Millisecond)
	if time.Until(end) < 2*time.Second {
		t.Fatalf("the restart took until %.1f s of the %v cooldown: too late to test it",
			time.Since(first.at).Seconds(), cooldown)
	}
	time.Sleep(time.Until(end))
	fams := d2.scrape(t)
	held := capturesByRule(fams, "gspy_capture_rule_held_total", "")[rule]
	skips := capturesByRule(fams, "gspy_capture_rule_cooldown_skips_total", "")[rule]
	t.Logf("the restarted gspyd: %v looks held, %v skipped for the cooldown", held, skips)
	if held < 3 || skips != held {
		t.Errorf("within the cooldown after a restart: %v looks held, %v skipped; want >= 3, all skipped", held, skips)
	}
	if list := listCaptures(t, hh, d2.addr); len(list) != 1 {
		t.Fatalf("within the cooldown after a restart the store holds %v, want the first capture only", list)
	}

	// Then the cooldown ends and the rule, still holding, fires again.
	list := waitCaptures(t, hh, d2, 2, 10*time.Second)
	second := list[len(list)-1]
	after := second.at.Sub(first.at)
	t.Logf("second capture %s %.2f s after the first (cooldown %v)", second.id, after.Seconds(), cooldown)
	if after < cooldown || after > cooldown+2*time.Second {
		t.Errorf("the second capture came %v after the first, want within 2s after the %v cooldown", after, cooldown)
	}
	if second.pid != w.pid {
		t.Errorf("second capture of pid %d, want %d", second.pid, w.pid)
	}
}

// captureOnCause runs spiky with `args`, a rule on it, then SIGUSR2 (which
// starts what `event` announces): the rule fires within 2 s, once in its
// cooldown while it goes on holding, and the capture's CPU profile is
// mostly `guilty`.
func captureOnCause(t *testing.T, metric, threshold string, args []string, event, guilty string) {
	hh := env(t)
	bin := hh.buildWorkload(t, "spiky", "", "")
	rule := metric + ">" + threshold + ";exe=" + bin
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0",
		"--capture-dir="+t.TempDir(), "--capture-duration=1s",
		"--capture-cooldown=1m", "--capture-interval=250ms", "--capture-rule="+rule)
	w := startGcwork(t, bin, args...)
	// Quiet: the rule looks and does not hold.
	waitRuleLooks(t, d, rule, 4)
	if held := capturesByRule(d.scrape(t), "gspy_capture_rule_held_total", "")[rule]; held != 0 {
		t.Fatalf("the rule held %v times before the cause", held)
	}
	cause := time.Now()
	if err := syscall.Kill(w.pid, syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	if ev := w.next(t, 10*time.Second); ev["event"] != event {
		t.Fatalf("spiky: expected a %s line, got %v", event, ev)
	}
	c := waitCaptures(t, hh, d, 1, 10*time.Second)[0]
	lag := c.at.Sub(cause)
	t.Logf("capture %s (%s) %.0f ms after the signal", c.id, c.measured, lag.Seconds()*1000)
	if lag < -50*time.Millisecond || lag > 2*time.Second {
		t.Errorf("capture %s fired %v after the cause, want within 2s", c.id, lag)
	}
	if !strings.HasPrefix(c.measured, metric+"=") || c.pid != w.pid {
		t.Errorf("capture %s measured %q of pid %d, want %s of pid %d", c.id, c.measured, c.pid, metric, w.pid)
	}
	// The capture is stored after its 1 s profiles; the rule holds on.
	deadline := time.Now().Add(10 * time.Second)
	for capturesByRule(d.scrape(t), "gspy_captures_total", "taken")[rule] < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the capture was not stored within 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Watch for at least 1.5 s (six looks), and until the rule has skipped
	// twice: a busy machine may run fewer looks in 1.5 s.
	watchUntil := time.Now().Add(1500 * time.Millisecond)
	deadline = time.Now().Add(20 * time.Second)
	for time.Now().Before(watchUntil) || (capturesByRule(d.scrape(t), "gspy_capture_rule_cooldown_skips_total", "")[rule] < 2 && time.Now().Before(deadline)) {
		time.Sleep(100 * time.Millisecond)
	}
	fams := d.scrape(t)
	if taken := capturesByRule(fams, "gspy_captures_total", "taken")[rule]; taken != 1 {
		t.Errorf("%v captures taken, want 1 (cooldown 1m)", taken)
	}
	if skips := capturesByRule(fams, "gspy_capture_rule_cooldown_skips_total", "")[rule]; skips < 2 {
		t.Errorf("the rule held on after its capture, but cooldown skips are %v", skips)
	}
	out := filepath.Join(t.TempDir(), "capture")
	if r := hh.gspyAt(t, d.addr, 30*time.Second, "captures", "get", c.id, "-o", out); r.exitCode != 0 {
		t.Fatalf("gspy captures get: exit %d: %s", r.exitCode, r.stderr)
	}
	share := guiltyShare(t, filepath.Join(out, "cpu.pb.gz"), guilty)
	t.Logf("the capture's CPU profile: %.1f%% of its samples in %s", share*100, guilty)
	if share < 0.8 {
		t.Errorf("the capture's CPU profile has %.1f%% of its samples in %s, want over 80%%", share*100, guilty)
	}
}

// TestCaptureOnSchedLatency: sched_latency_p99, read from the runtime's
// scheduling-latency histogram, fires when 50 goroutines start spinning on
// one P (GOMAXPROCS=1): each waits its turn for ~0.5 s.
func TestCaptureOnSchedLatency(t *testing.T) {
	captureOnCause(t, "sched_latency_p99", "10ms",
		[]string{"-usr2=spin", "-gomaxprocs=1"}, "spinning", "main.guiltySpin")
}

// TestCaptureOnCpu: cpu, read from /proc/PID/stat, fires when two
// goroutines start burning CPU.
func TestCaptureOnCpu(t *testing.T) {
	captureOnCause(t, "cpu", "50%", []string{"-usr2=burn", "-burners=2"}, "burning", "main.guiltyBurn")
}
