package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goMinor is "go1.N" of the toolchain that builds the workloads.
func goMinor(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(h.goBin, "env", "GOVERSION").Output()
	if err != nil {
		t.Fatalf("go env GOVERSION: %v", err)
	}
	v := strings.TrimSpace(string(out))
	if parts := strings.SplitN(v, ".", 3); len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

func TestTargets(t *testing.T) {
	hh := env(t)
	bin := hh.cpuwork(t, variants[0])
	w := startWorkload(t, bin, "-mode=split", "-duration=5s")
	sleep := exec.Command("sleep", "100")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()

	r := hh.gspy(t, 30*time.Second, "targets")
	if r.exitCode != 0 {
		t.Fatalf("gspy targets exited %d; stderr:\n%s", r.exitCode, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	t.Logf("gspy targets output:\n%s", r.stdout)
	if len(lines) < 2 {
		t.Fatalf("gspy targets printed %d lines; want a header and at least the cpuwork line", len(lines))
	}
	want := goMinor(t)
	found := false
	for _, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 8 {
			t.Errorf("targets line %q has %d tab-separated fields, want 8 (PID GO_VERSION EXE MODULE PROBES POD HEAP NOTE)", line, len(f))
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			t.Errorf("targets line %q: PID %q is not a number", line, f[0])
			continue
		}
		if pid == sleep.Process.Pid {
			t.Errorf("targets lists the non-Go process sleep (pid %d): %q", pid, line)
		}
		if pid != w.pid {
			continue
		}
		found = true
		if f[1] != want && !strings.HasPrefix(f[1], want+".") {
			t.Errorf("cpuwork's GO_VERSION is %q, want %s.x", f[1], want)
		}
		if filepath.Base(f[2]) != filepath.Base(bin) {
			t.Errorf("cpuwork's EXE is %q, want a path ending in %s", f[2], filepath.Base(bin))
		}
		if f[3] != "gspy.dev/workloads/cpuwork" {
			t.Errorf("cpuwork's MODULE is %q, want gspy.dev/workloads/cpuwork", f[3])
		}
		if f[4] != "-" {
			t.Errorf("cpuwork's PROBES is %q, want - (no GC watch or block pull runs)", f[4])
		}
		if f[5] != "-" {
			t.Errorf("cpuwork's POD is %q, want - (not in a pod)", f[5])
		}
		// HEAP: yes exactly when the binary links the memory profiler
		// (go tool nm names runtime.MemProfile or memProfileInternal).
		nm, err := exec.Command(hh.goBin, "tool", "nm", bin).Output()
		if err != nil {
			t.Fatalf("go tool nm: %v", err)
		}
		linked := regexp.MustCompile(` T runtime\.(MemProfile|memProfileInternal)\n`).Match(nm)
		if heapYes := f[6] == "yes"; heapYes != linked || (!linked && !strings.Contains(f[6], "memory profiler")) {
			t.Errorf("cpuwork's HEAP is %q; the binary links the memory profiler: %v", f[6], linked)
		}
		if f[7] != "" {
			t.Errorf("cpuwork's NOTE is %q, want empty (profilable)", f[7])
		}
	}
	if !found {
		t.Errorf("gspy targets does not list cpuwork (pid %d)", w.pid)
	}
	w.waitDone(t, 30*time.Second)
}

// TestCPUProfileMatchesGo profiles each cpuwork build variant with gspy and
// compares the result with cpuwork's own runtime/pprof CPU profile.
func TestCPUProfileMatchesGo(t *testing.T) {
	hh := env(t)
	for _, v := range variants { // sequential: the machine has few cores
		t.Run(v.name, func(t *testing.T) {
			bin := hh.cpuwork(t, v)
			dir := t.TempDir()
			goProf := filepath.Join(dir, "go.pprof")
			gspyProf := filepath.Join(dir, "gspy.pb.gz")

			w := startWorkload(t, bin, "-mode=split", "-duration=12s", "-cpuprofile="+goProf)
			t0, _ := cpuTicks(w.pid)
			r := hh.gspy(t, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w.pid),
				"--duration=8s", "--goroutine-ids", "-o", gspyProf)
			t1, _ := cpuTicks(w.pid)
			w.waitDone(t, 30*time.Second)
			if r.exitCode != 0 {
				t.Fatalf("gspy profile exited %d; stderr:\n%s", r.exitCode, r.stderr)
			}
			checkPprofRaw(t, gspyProf)

			gp := readProfile(t, goProf)
			sp := readProfile(t, gspyProf)
			checkCPUConventions(t, sp)
			goSh, gspySh := flatShares(gp), flatShares(sp)
			logShares(t, goSh, gspySh)

			// How many samples should gspy have? cpuwork's CPU time during the
			// pull (which includes gspy's start-up) times the sampling rate.
			if sp.Period > 0 {
				hz := 1e9 / float64(sp.Period)
				expect := float64(t1-t0) / 100 * hz // CLK_TCK is 100 on Linux
				t.Logf("gspy samples: %d; cpuwork used %.2f CPU-s during the pull -> ~%.0f samples at %.0f Hz",
					sampleCount(sp), float64(t1-t0)/100, expect, hz)
				if n := sampleCount(sp); expect > 100 && float64(n) < 0.5*expect {
					t.Errorf("gspy has %d samples, less than half of the ~%.0f expected from cpuwork's CPU time", n, expect)
				}
			}
			if goSh.samples < 100 || gspySh.samples < 100 {
				t.Fatalf("too few samples to compare (go %d, gspy %d)", goSh.samples, gspySh.samples)
			}
			compareShares(t, goSh, gspySh)

			goLabels, gspyLabels := labelValues(gp, "handler"), labelValues(sp, "handler")
			t.Logf("handler label values: go %v, gspy %v", goLabels, gspyLabels)
			if got := strings.Join(keys(goLabels), ","); got != "alpha,beta" {
				t.Errorf("Go's own profile has handler values {%s}, want {alpha,beta} (workload problem?)", got)
			}
			if got, want := strings.Join(keys(gspyLabels), ","), strings.Join(keys(goLabels), ","); got != want {
				t.Errorf("gspy's handler label values are {%s}, Go's profile has {%s}", got, want)
			}
			checkGoroutineLabels(t, sp, w.goids)

			if !hasInlined(gp, "main.mix", "main.spinBeta") {
				t.Errorf("Go's own profile has no inlined main.mix in main.spinBeta (workload problem?)")
			}
			if !hasInlined(sp, "main.mix", "main.spinBeta") {
				t.Errorf("gspy's profile has no Location with main.mix inlined into main.spinBeta (Location.Line innermost first)")
			}
		})
	}
}
