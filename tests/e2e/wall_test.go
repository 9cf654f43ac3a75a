package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A wall-clock profile: blockwork's waiting scenarios and a goroutine that
// spins for 1 s. Each waiting scenario's "waiting" time is what it measured
// itself; the spinner's "running" time is its 1 s of CPU. Exact: the waits
// from the block probes.
func TestWallProfile(t *testing.T) {
	runWall(t, true, 0.10)
}

// The same, the waits sampled from outside at the default rate (no
// probes): within 5%.
func TestWallProfileSampled(t *testing.T) {
	runWall(t, false, 0.05)
}

func runWall(t *testing.T, exact bool, tolerance float64) {
	hh := env(t)
	w := startGcwork(t, hh.buildWorkload(t, "blockwork", "", ""), "-spin=1s")
	out := filepath.Join(t.TempDir(), "wall.pb.gz")
	args := []string{"profile", "wall", fmt.Sprintf("--pid=%d", w.pid), "--duration=60s", "-o", out}
	probe := "sampled"
	if exact {
		args = append(args, "--exact")
		probe = "block"
	}
	res := hh.pullInBackground(t, hh.addr, args...)
	waitUntilProbed(t, hh, hh.addr, w.pid, probe)
	fmt.Fprintln(w.stdin, "go")
	done := w.next(t, time.Minute)
	w.cmd.Wait()
	w.waited = true
	truth := blockworkTruth(done)
	r := <-res
	if r.exitCode != 0 {
		t.Fatalf("wall pull: %s", r.stderr)
	}
	checkPprofRaw(t, out)
	p := readProfile(t, out)
	checkMode(t, p, r.stderr, exact)
	if len(p.SampleType) != 2 || p.SampleType[1].Type != "wall" || p.SampleType[1].Unit != "nanoseconds" {
		t.Fatalf("sample types %v, want [samples/count wall/nanoseconds]", p.SampleType)
	}
	// wall ns by scenario and state
	got := map[string]map[string]float64{}
	for _, s := range p.Sample {
		state := strings.Join(s.Label["state"], ",")
		if state != "running" && state != "waiting" && state != "runnable" {
			t.Fatalf("a sample with state %q", state)
		}
		sc := strings.Join(s.Label["scenario"], ",")
		if got[sc] == nil {
			got[sc] = map[string]float64{}
		}
		got[sc][state] += float64(s.Value[1])
	}
	for name := range blockScenarios {
		t.Logf("%-6s truth %7.1f ms | waiting %7.1f ms, runnable %5.2f ms, running %5.2f ms", name,
			truth[name].totalNs/1e6, got[name]["waiting"]/1e6, got[name]["runnable"]/1e6, got[name]["running"]/1e6)
		if !within(got[name]["waiting"], truth[name].totalNs, tolerance) {
			t.Errorf("%s: waiting %.1f ms, the workload measured %.1f ms (tolerance %.0f%%)", name, got[name]["waiting"]/1e6, truth[name].totalNs/1e6, 100*tolerance)
		}
	}
	spin := got["spin"]
	t.Logf("spin   truth %7.1f ms | running %7.1f ms, waiting %5.2f ms, runnable %5.2f ms",
		truth["spin"].totalNs/1e6, spin["running"]/1e6, spin["waiting"]/1e6, spin["runnable"]/1e6)
	// 99 Hz sampling of ~1 s: about 100 samples, so a 20% tolerance.
	if !within(spin["running"], truth["spin"].totalNs, 0.20) {
		t.Errorf("spin: running %.1f ms, it was on a CPU for %.1f ms (tolerance 20%%)", spin["running"]/1e6, truth["spin"].totalNs/1e6)
	}
	if spin["waiting"] > 0.05*truth["spin"].totalNs {
		t.Errorf("spin: %.1f ms waiting, but it never parks", spin["waiting"]/1e6)
	}
}
