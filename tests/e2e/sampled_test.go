package e2e

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// The sampled wait source (daemon/sources/sampled): block, sched-latency and
// wall pulls read the goroutines' states from outside, with no probes, and
// charge each sweep's interval to what every goroutine was doing.

var (
	sampledWroteRE = regexp.MustCompile(`sampled: goroutine states every ([0-9.]+) ms, ([0-9.]+) Hz`)
	sampledUsedRE  = regexp.MustCompile(`budget of ([0-9.]+)% of a core per process .*used ([0-9.]+)%\)`)
)

// checkMode checks that the profile and the CLI both say which mode made
// the profile, and for a sampled one at what rate and CPU share; returns the
// sweep interval in ms (0 when exact).
func checkMode(t *testing.T, p *profile.Profile, stderr string, exact bool) float64 {
	t.Helper()
	comments := strings.Join(p.Comments, "\n")
	if exact {
		if !strings.Contains(comments, "mode: exact") || !strings.Contains(stderr, "exact: block uprobes") {
			t.Errorf("an exact profile should say so in its comments and on stderr; comments:\n%s\nstderr:\n%s", comments, stderr)
		}
		return 0
	}
	m := sampledWroteRE.FindStringSubmatch(stderr)
	if m == nil || !strings.Contains(comments, "mode: sampled") || !strings.Contains(comments, "count: distinct waits observed") {
		t.Errorf("a sampled profile should say so, its rate and what count means; comments:\n%s\nstderr:\n%s", comments, stderr)
		return 0
	}
	ms, _ := strconv.ParseFloat(m[1], 64)
	u := sampledUsedRE.FindStringSubmatch(comments)
	if u == nil {
		t.Errorf("the profile should state the CPU budget and the share used; comments:\n%s", comments)
		return ms
	}
	budget, _ := strconv.ParseFloat(u[1], 64)
	used, _ := strconv.ParseFloat(u[2], 64)
	t.Logf("sampled every %.2f ms; gspyd used %.3f%% of a core for this process (budget %.2f%%)", ms, used, budget)
	// The interval is spaced to the budget on average; some slack for the
	// first sweeps, measured before the average settles.
	if used > 1.2*budget {
		t.Errorf("gspyd used %.3f%% of a core on the sweeps, over its budget of %.2f%%", used, budget)
	}
	return ms
}

// sampleSums sums a block-shaped profile's samples of blockwork's scenarios
// by scenario and by stack (function names, leaf first).
func sampleSums(p *profile.Profile) (byScenario map[string]measuredWait, byStack map[string]measuredWait) {
	byScenario, byStack = map[string]measuredWait{}, map[string]measuredWait{}
	for _, s := range p.Sample {
		sc := s.Label["scenario"]
		if len(sc) != 1 {
			continue
		}
		for _, m := range []struct {
			sums map[string]measuredWait
			key  string
		}{{byScenario, sc[0]}, {byStack, sc[0] + " " + strings.Join(frames(s), ";")}} {
			v := m.sums[m.key]
			v.count += s.Value[0]
			v.totalNs += float64(s.Value[1])
			m.sums[m.key] = v
		}
	}
	return byScenario, byStack
}

// targetProbes is pid's PROBES column in `gspy targets`.
func targetProbes(t *testing.T, hh *harness, addr string, pid int) string {
	for _, line := range strings.Split(hh.gspyAt(t, addr, 30*time.Second, "targets").stdout, "\n") {
		if f := strings.Split(line, "\t"); len(f) == 8 && f[0] == strconv.Itoa(pid) {
			return f[4]
		}
	}
	return ""
}

// blockwork's 40 waits of 25 ms per scenario under a sampled block pull, a
// sampled sched-latency pull and an exact block pull: the sampled delay per
// scenario (one wait reason each) and per stack is within 5% of the
// workload's own timing and of the exact profile. At the default rate.
func TestSampledBlockProfileMatchesTruthAndExact(t *testing.T) {
	hh := env(t)
	runSampledTruth(t, hh, hh.buildWorkload(t, "blockwork", "", ""), true)
}

// The same across Go versions (map labels up to 1.23, slice labels from
// 1.24; renumbered wait reasons; g layouts), PIE and stripped binaries,
// against the workload's timing only.
func TestSampledBlockProfileAcrossGoVersions(t *testing.T) {
	hh := env(t)
	for _, v := range blockworkVariants {
		t.Run(v.toolchain+"_"+strings.ReplaceAll(v.ldflags, " ", ""), func(t *testing.T) {
			runSampledTruth(t, hh, hh.buildWorkload(t, "blockwork", v.toolchain, v.ldflags), false)
		})
	}
}

// runSampledTruth runs blockwork under sampled block and sched-latency pulls
// (and, withExact, an exact block pull) and checks them against the
// workload's own timing (and the exact profile).
func runSampledTruth(t *testing.T, hh *harness, bin string, withExact bool) {
	w := startGcwork(t, bin)
	pid := strconv.Itoa(w.pid)
	dir := t.TempDir()
	sampledOut := filepath.Join(dir, "sampled.pb.gz")
	schedOut := filepath.Join(dir, "sched.pb.gz")
	exactOut := filepath.Join(dir, "exact.pb.gz")
	sampledRes := hh.pullInBackground(t, hh.addr, "profile", "block", "--pid="+pid, "--duration=60s", "-o", sampledOut)
	schedRes := hh.pullInBackground(t, hh.addr, "profile", "sched-latency", "--pid="+pid, "--duration=60s", "-o", schedOut)
	waitUntilProbed(t, hh, hh.addr, w.pid, "sampled")
	// Zero traps: a sampled pull attaches no probe.
	if probes := targetProbes(t, hh, hh.addr, w.pid); strings.Contains(probes, "block") {
		t.Errorf("with only sampled pulls running, gspy targets shows probes %q", probes)
	}
	pulls := map[string]chan gspyResult{"sampled": sampledRes, "sched": schedRes}
	if withExact {
		pulls["exact"] = hh.pullInBackground(t, hh.addr, "profile", "block", "--exact", "--pid="+pid, "--duration=60s", "-o", exactOut)
		waitUntilProbed(t, hh, hh.addr, w.pid, "block")
	}
	time.Sleep(time.Second) // every pull attached: see runBlockTruth
	if _, err := fmt.Fprintln(w.stdin, "go"); err != nil {
		t.Fatal(err)
	}
	done := w.next(t, 60*time.Second)
	w.cmd.Wait()
	w.waited = true
	truth := blockworkTruth(done)
	stderr := map[string]string{}
	for name, ch := range pulls {
		r := <-ch
		if r.exitCode != 0 {
			t.Fatalf("%s pull failed (exit %d): %s", name, r.exitCode, r.stderr)
		}
		stderr[name] = r.stderr
	}
	checkPprofRaw(t, sampledOut)
	sampledP, schedP := readProfile(t, sampledOut), readProfile(t, schedOut)
	ms := checkMode(t, sampledP, stderr["sampled"], false)
	checkMode(t, schedP, stderr["sched"], false)
	exactP := &profile.Profile{SampleType: sampledP.SampleType}
	if withExact {
		exactP = readProfile(t, exactOut)
		checkMode(t, exactP, stderr["exact"], true)
	}
	if ms > 0 && (math.Abs(float64(sampledP.Period)-ms*1e6) > 0.01*ms*1e6 ||
		sampledP.PeriodType == nil || sampledP.PeriodType.Type != "wall") {
		t.Errorf("the sampled profile's period should be the sweep interval (%.2f ms) of type wall; got %d %v", ms, sampledP.Period, sampledP.PeriodType)
	}
	// Reasons and stacks as the exact profile has them.
	sampled := blockByScenario(t, sampledP, "sampled block")
	exact := blockByScenario(t, exactP, "exact block")
	sched, _ := sampleSums(schedP)
	for name := range blockScenarios {
		tr, s, e, r := truth[name], sampled[name], exact[name], sched[name]
		t.Logf("%-6s truth %3d waits %7.1f ms | sampled %3d %7.1f ms (%+.1f%%) | exact %3d %7.1f ms | sampled runnable %3d %5.2f ms",
			name, tr.count, tr.totalNs/1e6, s.count, s.totalNs/1e6, 100*(s.totalNs/tr.totalNs-1), e.count, e.totalNs/1e6, r.count, r.totalNs/1e6)
		if !within(s.totalNs, tr.totalNs, 0.05) {
			t.Errorf("%s: sampled delay %.1f ms, the workload measured %.1f ms (tolerance 5%%)", name, s.totalNs/1e6, tr.totalNs/1e6)
		}
		if withExact && !within(s.totalNs, e.totalNs, 0.05) {
			t.Errorf("%s: sampled delay %.1f ms, the exact profile %.1f ms (tolerance 5%%)", name, s.totalNs/1e6, e.totalNs/1e6)
		}
		// Distinct waits observed: at least one, never more than there were.
		if s.count < 1 || s.count > tr.count {
			t.Errorf("%s: sampled count %d; want distinct waits observed, 1..%d", name, s.count, tr.count)
		}
		// Woken goroutines run within microseconds here: the runnable time
		// is a sliver of the waiting time.
		if r.totalNs > 0.05*tr.totalNs {
			t.Errorf("%s: %.1f ms runnable; the workload's goroutines barely queue", name, r.totalNs/1e6)
		}
	}
	if !withExact {
		return
	}
	_, sampledStacks := sampleSums(sampledP)
	_, exactStacks := sampleSums(exactP)
	for stack, e := range exactStacks {
		s := sampledStacks[stack]
		if !within(s.totalNs, e.totalNs, 0.05) {
			t.Errorf("stack %s: sampled %.1f ms, exact %.1f ms (tolerance 5%%)", stack, s.totalNs/1e6, e.totalNs/1e6)
		}
	}
	for stack, s := range sampledStacks {
		if _, ok := exactStacks[stack]; !ok {
			t.Errorf("stack %s (%.1f ms) is in the sampled profile only", stack, s.totalNs/1e6)
		}
	}
}

// 1 ms waits for 30 s: a wait is shorter than the interval between sweeps
// (10 ms by default), so single waits are mostly unseen, but the time the
// goroutines spend waiting is sampled all the same: the total is within 10%
// of the workload's own timing, at the default rate.
func TestSampledBlockProfileShortWaits(t *testing.T) {
	hh := env(t)
	w := startGcwork(t, hh.buildWorkload(t, "blockwork", "", ""), "-wait=1ms", "-for=30s")
	out := filepath.Join(t.TempDir(), "block.pb.gz")
	res := hh.pullInBackground(t, hh.addr, "profile", "block", fmt.Sprintf("--pid=%d", w.pid), "--duration=120s", "-o", out)
	waitUntilProbed(t, hh, hh.addr, w.pid, "sampled")
	if _, err := fmt.Fprintln(w.stdin, "go"); err != nil {
		t.Fatal(err)
	}
	done := w.next(t, 2*time.Minute)
	w.cmd.Wait()
	w.waited = true
	truth := blockworkTruth(done)
	r := <-res
	if r.exitCode != 0 {
		t.Fatalf("pull failed: %s", r.stderr)
	}
	p := readProfile(t, out)
	checkMode(t, p, r.stderr, false)
	got := blockByScenario(t, p, "sampled block")
	var trueNs, gotNs float64
	var trueWaits int64
	for name := range blockScenarios {
		tr, g := truth[name], got[name]
		trueNs += tr.totalNs
		gotNs += g.totalNs
		trueWaits += tr.count
		t.Logf("%-6s truth %5d waits %8.1f ms | sampled %4d %8.1f ms (%+.1f%%)", name, tr.count, tr.totalNs/1e6, g.count, g.totalNs/1e6, 100*(g.totalNs/tr.totalNs-1))
	}
	t.Logf("total  truth %5d waits %8.1f ms | sampled %8.1f ms (%+.1f%%)", trueWaits, trueNs/1e6, gotNs/1e6, 100*(gotNs/trueNs-1))
	if !within(gotNs, trueNs, 0.10) {
		t.Errorf("sampled delay %.1f ms in all, the workload measured %.1f ms (tolerance 10%%)", gotNs/1e6, trueNs/1e6)
	}
}
