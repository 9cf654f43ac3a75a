package e2e

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// pidsIn returns the samples per "pid" label value of a profile.
func pidsIn(p *profile.Profile) map[int64]int64 {
	out := map[int64]int64{}
	for _, s := range p.Sample {
		for _, v := range s.NumLabel["pid"] {
			out[v] += s.Value[0]
		}
	}
	return out
}

// TestSelectByExecutable: --exe selects every process of one binary, also one
// that starts during the pull, and the profile tells them apart by "pid".
func TestSelectByExecutable(t *testing.T) {
	hh := env(t)
	bin := hh.cpuwork(t, variants[0])
	w1 := startWorkload(t, bin, "-mode=split", "-duration=10s")
	out := filepath.Join(t.TempDir(), "exe.pb.gz")
	var r gspyResult
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r = hh.gspy(t, 60*time.Second, "profile", "cpu", "--exe="+bin, "--duration=5s", "-o", out)
	}()
	time.Sleep(1500 * time.Millisecond)
	w2 := startWorkload(t, bin, "-mode=split", "-duration=8s")
	wg.Wait()
	if r.exitCode != 0 {
		t.Fatalf("gspy --exe failed: %s", r.stderr)
	}
	p := readProfile(t, out)
	checkPprofRaw(t, out)
	pids := pidsIn(p)
	t.Logf("samples per pid: %v (workloads %d, %d)", pids, w1.pid, w2.pid)
	if pids[int64(w1.pid)] == 0 {
		t.Errorf("no samples of the process running at the start (pid %d)", w1.pid)
	}
	if pids[int64(w2.pid)] == 0 {
		t.Errorf("no samples of the process started during the pull (pid %d)", w2.pid)
	}
	for pid := range pids {
		if pid != int64(w1.pid) && pid != int64(w2.pid) {
			t.Errorf("samples of pid %d, which does not run %s", pid, bin)
		}
	}
	w1.waitDone(t, 30*time.Second)
	w2.waitDone(t, 30*time.Second)
}

// TestSelectSeveralPidsAndAll: --pid repeats; no selector takes every Go
// process.
func TestSelectSeveralPidsAndAll(t *testing.T) {
	hh := env(t)
	bin := hh.cpuwork(t, variants[0])
	w1 := startWorkload(t, bin, "-mode=split", "-duration=8s")
	w2 := startWorkload(t, bin, "-mode=split", "-duration=8s")

	two := filepath.Join(t.TempDir(), "two.pb.gz")
	r := hh.gspy(t, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w1.pid),
		fmt.Sprintf("--pid=%d", w2.pid), "--duration=2s", "-o", two)
	if r.exitCode != 0 {
		t.Fatalf("gspy with two --pid failed: %s", r.stderr)
	}
	pids := pidsIn(readProfile(t, two))
	if len(pids) != 2 || pids[int64(w1.pid)] == 0 || pids[int64(w2.pid)] == 0 {
		t.Errorf("samples per pid %v, want both %d and %d", pids, w1.pid, w2.pid)
	}

	all := filepath.Join(t.TempDir(), "all.pb.gz")
	r = hh.gspy(t, 60*time.Second, "profile", "cpu", "--duration=2s", "-o", all)
	if r.exitCode != 0 {
		t.Fatalf("gspy with no selector failed: %s", r.stderr)
	}
	pids = pidsIn(readProfile(t, all))
	if pids[int64(w1.pid)] == 0 || pids[int64(w2.pid)] == 0 {
		t.Errorf("a pull of every Go process has samples per pid %v, missing %d or %d", pids, w1.pid, w2.pid)
	}
	w1.waitDone(t, 30*time.Second)
	w2.waitDone(t, 30*time.Second)
}
