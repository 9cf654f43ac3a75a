package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// gspyBuckets runs `gspy ARGS -o F` and reads F.
func gspyBuckets(t *testing.T, hh *harness, args ...string) *profile.Profile {
	t.Helper()
	out := filepath.Join(t.TempDir(), "gspy.pb.gz")
	r := hh.gspy(t, 90*time.Second, append(args, "-o", out)...)
	if r.exitCode != 0 {
		t.Fatalf("gspy %v failed: %s", args, r.stderr)
	}
	return readProfile(t, out)
}

// TestHeapThroughGspyd: heap, mutex and runtime block profiles pulled from
// gspyd with an executable selector (--exe: gspyd resolves and reads the
// process) equal the program's own, as the direct reads do, and every
// sample carries the process's pid label; a stack filter keeps only the
// matching samples, and the rest of the profile is untouched.
func TestHeapThroughGspyd(t *testing.T) {
	hh := env(t)
	for _, ldflags := range []string{"", "-s -w"} {
		t.Run(booksCase{"", ldflags, nil}.name(), func(t *testing.T) {
			bin := hh.buildWorkload(t, "heapwork", "", ldflags)
			p := startHeapwork(t, bin, "-mutex", "-block")
			own := readProfile(t, p.out)
			heap := gspyBuckets(t, hh, "profile", "heap", "--exe="+bin)
			compareHeap(t, own, heap)
			for _, s := range heap.Sample {
				if pid := s.NumLabel["pid"]; len(pid) != 1 || pid[0] != int64(p.pid) {
					t.Fatalf("heap sample without pid label %d: %v", p.pid, s.NumLabel)
				}
			}
			for _, k := range contentionKinds {
				compareContention(t, k.name+" via gspyd", readProfile(t, p.out+k.suffix),
					gspyBuckets(t, hh, append(append([]string{}, k.args...), "--exe="+bin)...))
			}
			// The filter: only main.retainBig's samples, the same values.
			f := gspyBuckets(t, hh, "profile", "heap", "--exe="+bin, `--filter=stack:~^main\.retainBig$`)
			if len(f.Sample) == 0 {
				t.Fatalf("the filter kept nothing")
			}
			want := map[string][]int64{}
			for k, v := range heapSamples(t, own) {
				if strings.Contains(k, ";main.retainBig:") {
					want[k] = v
				}
			}
			got := heapSamples(t, f)
			for k, v := range got {
				if !strings.Contains(k, ";main.retainBig:") {
					t.Errorf("filtered profile has %s", k)
				} else if w := want[k]; len(w) != len(v) || w[3] != v[3] || w[1] != v[1] {
					t.Errorf("filtered %s: %v, Go %v", k, v, w)
				}
			}
			if len(got) != len(want) {
				t.Errorf("filter kept %d stacks, Go's profile has %d in main.retainBig", len(got), len(want))
			}
		})
	}
}

// TestHeapDelta: --delta=3s (read here with --pid, and through gspyd with
// --exe) shows the allocations of the window only: those of
// main.churnAfter, which allocates all along, and none of main.retainBig,
// which allocated before the window; in-use values stay as they are at the
// end (main.retainBig's 64 MiB, about).
func TestHeapDelta(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "heapwork", "", "")
	p := startHeapwork(t, bin, "-churn-after")
	sum := func(prof *profile.Profile, fn string, i int) int64 {
		var n int64
		for k, v := range heapSamples(t, prof) {
			if strings.Contains(k, ";"+fn+":") {
				n += v[i]
			}
		}
		return n
	}
	full := gspyBuckets(t, hh, "profile", "heap", "--pid="+strconv.Itoa(p.pid))
	if sum(full, "main.retainBig", 1) == 0 {
		t.Fatalf("the full profile has no main.retainBig allocation")
	}
	for _, sel := range []string{"--pid=" + strconv.Itoa(p.pid), "--exe=" + bin} {
		d := gspyBuckets(t, hh, "profile", "heap", sel, "--delta=3s")
		if d.DurationNanos != int64(3*time.Second) {
			t.Errorf("%s: delta profile duration %v, want 3s", sel, time.Duration(d.DurationNanos))
		}
		if got := sum(d, "main.retainBig", 1); got != 0 {
			t.Errorf("%s: delta profile has %d bytes allocated in main.retainBig, before the window", sel, got)
		}
		// 20000 x 64 B per round, a round every 20 ms or more: at least a
		// few MiB in 3 s, even on a loaded machine (sampled at 512 KiB).
		if got := sum(d, "main.churnAfter", 1); got < 4<<20 {
			t.Errorf("%s: delta profile has %d bytes allocated in main.churnAfter, want > 4 MiB", sel, got)
		}
		if got := sum(d, "main.retainBig", 3); got < 48<<20 || got > 84<<20 {
			t.Errorf("%s: delta profile has %d bytes in use in main.retainBig, want about 64 MiB", sel, got)
		}
	}
}

// TestHeapMetricsAvailable: gspyd's /metrics (parsed with Prometheus' own
// parser) says per process whether its heap profile can be read:
// gspy_go_heap_profile_available 1 for heapwork, 0 with reason
// no_memory_profiler for a binary without the memory profiler and
// memprofilerate_zero for one that set MemProfileRate to 0.
func TestHeapMetricsAvailable(t *testing.T) {
	hh := env(t)
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0", "--metrics-gc=false", "--metrics-goroutines=false")
	noprof := filepath.Join(t.TempDir(), "heapwork-noprofiler")
	cmd := exec.Command(hh.goBin, "build", "-tags=noprofiler", "-o", noprof, ".")
	cmd.Dir = filepath.Join(filepath.Dir(hh.cpuworkSrc), "heapwork")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	bin := hh.buildWorkload(t, "heapwork", "", "-s -w")
	for _, c := range []struct {
		bin    string
		args   []string
		value  float64
		reason string
	}{
		{bin, nil, 1, ""},
		{noprof, nil, 0, "no_memory_profiler"},
		{bin, []string{"-rate=0"}, 0, "memprofilerate_zero"},
	} {
		p := startHeapwork(t, c.bin, c.args...)
		ms := series(d.scrape(t), "gspy_go_heap_profile_available", map[string]string{"pid": strconv.Itoa(p.pid)})
		if len(ms) != 1 {
			t.Errorf("%s %v: %d gspy_go_heap_profile_available series for pid %d, want 1", c.bin, c.args, len(ms), p.pid)
			continue
		}
		reason := ""
		for _, l := range ms[0].GetLabel() {
			if l.GetName() == "reason" {
				reason = l.GetValue()
			}
		}
		if ms[0].GetGauge().GetValue() != c.value || reason != c.reason {
			t.Errorf("%s %v: gspy_go_heap_profile_available %v reason %q, want %v %q", c.bin, c.args,
				ms[0].GetGauge().GetValue(), reason, c.value, c.reason)
		}
	}
}

// TestHeapTargetExitsMidWindow: two processes of one binary pulled through
// gspyd with --exe and a --delta window, one killed during the window: the
// pull still succeeds with the survivor's profile (its samples, its pid),
// so a process exiting mid-read loses nothing of the others.
func TestHeapTargetExitsMidWindow(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "heapwork", "", "")
	stay := startHeapwork(t, bin, "-churn-after")
	leave := startHeapwork(t, bin, "-churn-after")
	out := filepath.Join(t.TempDir(), "heap.pb.gz")
	done := make(chan gspyResult, 1)
	go func() {
		done <- hh.gspy(t, 60*time.Second, "profile", "heap", "--exe="+bin, "--delta=4s", "-o", out)
	}()
	time.Sleep(1500 * time.Millisecond) // within the window
	leave.cmd.Process.Kill()
	leave.cmd.Wait()
	r := <-done
	if r.exitCode != 0 {
		t.Fatalf("gspy profile heap with one process gone mid-window: exit %d: %s", r.exitCode, r.stderr)
	}
	p := readProfile(t, out)
	pids := map[int64]int{}
	churn := int64(0)
	for _, s := range p.Sample {
		for _, pid := range s.NumLabel["pid"] {
			pids[pid]++
		}
		for _, loc := range s.Location {
			for _, l := range loc.Line {
				if l.Function.Name == "main.churnAfter" {
					churn += s.Value[1] // alloc_space
				}
			}
		}
	}
	t.Logf("pids in the profile: %v; main.churnAfter alloc_space %d; gspy: %s", pids, churn, strings.TrimSpace(r.stderr))
	if pids[int64(stay.pid)] == 0 || pids[int64(leave.pid)] != 0 {
		t.Errorf("profile pids %v, want only the survivor %d (the killed one: %d)", pids, stay.pid, leave.pid)
	}
	if churn <= 0 {
		t.Errorf("no main.churnAfter allocations of the survivor in the window")
	}
}
