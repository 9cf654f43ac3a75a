package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// heapworkProc is a running tests/workloads/heapwork that has written its
// own profiles to out (out.mutex, out.block) and printed its ready line.
type heapworkProc struct {
	cmd     *exec.Cmd
	pid     int
	version string
	out     string
}

func startHeapwork(t *testing.T, bin string, args ...string) *heapworkProc {
	t.Helper()
	p := &heapworkProc{out: filepath.Join(t.TempDir(), "own.pb.gz")}
	p.cmd = exec.Command(bin, append([]string{"-out=" + p.out}, args...)...)
	var stderr strings.Builder
	p.cmd.Stderr = &stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case l, ok := <-lines:
		var ready struct {
			Event     string `json:"event"`
			Pid       int    `json:"pid"`
			GoVersion string `json:"go_version"`
		}
		if !ok || json.Unmarshal([]byte(l), &ready) != nil || ready.Event != "ready" {
			p.cmd.Wait()
			t.Fatalf("heapwork: no ready line (%q); stderr:\n%s", l, stderr.String())
		}
		p.pid, p.version = ready.Pid, ready.GoVersion
	case <-time.After(60 * time.Second):
		t.Fatalf("heapwork: not ready within 60s")
	}
	return p
}

// heapSamples: a heap profile as stack (each location's address and the
// function:line of its frames, leaf first, inlined frames included) plus
// the "bytes" label -> the four values.
// Samples whose values are all zero are left out: they are buckets whose
// allocations are not published yet (the runtime lists every bucket), and
// buckets created by the program's own profile writing, after its snapshot.
func heapSamples(t *testing.T, p *profile.Profile) map[string][]int64 {
	t.Helper()
	out := map[string][]int64{}
	for _, s := range p.Sample {
		zero := true
		for _, v := range s.Value {
			zero = zero && v == 0
		}
		if zero {
			continue
		}
		var fr []string
		for _, loc := range s.Location {
			fr = append(fr, fmt.Sprintf("%#x", loc.Address))
			for _, l := range loc.Line {
				fr = append(fr, fmt.Sprintf("%s:%d", l.Function.Name, l.Line))
			}
		}
		key := strings.Join(fr, ";") + " bytes=" + fmt.Sprint(s.NumLabel["bytes"])
		v := out[key]
		if v == nil {
			v = make([]int64, len(s.Value))
		}
		for i := range s.Value {
			v[i] += s.Value[i]
		}
		out[key] = v
	}
	return out
}

func compareHeap(t *testing.T, own, gspy *profile.Profile) {
	t.Helper()
	if len(gspy.SampleType) != 4 {
		t.Fatalf("gspy sample types %v", gspy.SampleType)
	}
	for i, st := range own.SampleType {
		if gspy.SampleType[i].Type != st.Type || gspy.SampleType[i].Unit != st.Unit {
			t.Errorf("sample type %d: gspy %s/%s, Go %s/%s", i, gspy.SampleType[i].Type,
				gspy.SampleType[i].Unit, st.Type, st.Unit)
		}
	}
	if gspy.Period != own.Period || gspy.PeriodType.Type != own.PeriodType.Type {
		t.Errorf("period: gspy %d %s, Go %d %s", gspy.Period, gspy.PeriodType.Type, own.Period, own.PeriodType.Type)
	}
	a, b := heapSamples(t, own), heapSamples(t, gspy)
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	bad := 0
	for _, k := range keys {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			bad++
			if bad <= 10 {
				t.Errorf("stack %s: Go %v, gspy %v", k, a[k], b[k])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d stacks differ", bad, len(keys))
	}
	// The workload did what it says: Go's own profile holds about 64 MiB.
	// An estimate: each 1 MiB slice is sampled with probability 1-e^-2 at
	// the default rate and counts for 1.157 MiB, so 64 MiB shows as 48..84
	// MiB with a margin of more than 4 standard deviations (rate 1: exact).
	var big int64
	for k, v := range a {
		if strings.Contains(k, ";main.retainBig:") {
			big += v[3]
		}
	}
	if big < 48<<20 || big > 84<<20 {
		t.Errorf("Go's profile has %d in-use bytes in main.retainBig, want about 64 MiB", big)
	}
}

func gspyHeap(t *testing.T, hh *harness, pid int, args ...string) *profile.Profile {
	t.Helper()
	out := filepath.Join(t.TempDir(), "gspy-heap.pb.gz")
	r := hh.gspy(t, 60*time.Second, append([]string{"profile", "heap", "--pid=" + strconv.Itoa(pid), "-o", out}, args...)...)
	if r.exitCode != 0 {
		t.Fatalf("gspy profile heap failed: %s", r.stderr)
	}
	return readProfile(t, out)
}

// TestHeapEqualsGo: gspy's heap profile, read from the runtime's buckets
// from outside, equals the profile the program wrote itself with
// runtime/pprof at the same moment (after runtime.GC, nothing allocating):
// the same stacks (inlined frames included) with the same four values and
// the same period, for every Go minor 1.18..1.27, stripped and PIE. On
// unstripped binaries the globals found by decoding the runtime's code
// (--no-symtab) give the same profile.
func TestHeapEqualsGo(t *testing.T) {
	hh := env(t)
	// -rate: more buckets (and the unscaled path at 1) than the default
	// 512 KiB gives.
	cases := []booksCase{{"", "", nil}, {"", "-s -w", nil}, {"", "pie", nil}, {"go1.20.14", "pie", nil},
		{"", "", []string{"-rate=512"}}, {"", "-s -w", []string{"-rate=1"}}, {"go1.18.10", "", []string{"-rate=512"}}}
	for _, v := range []string{"go1.18.10", "go1.19.13", "go1.20.14", "go1.21.13", "go1.22.12",
		"go1.23.12", "go1.24.13", "go1.25.14", "go1.26.11", "go1.27.4"} {
		cases = append(cases, booksCase{v, "", nil}, booksCase{v, "-s -w", nil})
	}
	for _, tc := range cases {
		t.Run(tc.name(), func(t *testing.T) {
			bin := hh.buildWorkload(t, "heapwork", tc.toolchain, tc.ldflags)
			p := startHeapwork(t, bin, tc.args...)
			if tc.toolchain != "" && !strings.HasPrefix(p.version, tc.toolchain) {
				t.Fatalf("built by %s, wanted %s", p.version, tc.toolchain)
			}
			own := readProfile(t, p.out)
			compareHeap(t, own, gspyHeap(t, hh, p.pid))
			if tc.ldflags == "" {
				compareHeap(t, own, gspyHeap(t, hh, p.pid, "--no-symtab"))
			}
		})
	}
}

// TestHeapUnavailable: a binary that does not link the memory profiler, and
// one that set MemProfileRate to 0, get FAILED_PRECONDITION saying why, and
// gspy targets (through gspyd) shows the same reason in its HEAP column.
func TestHeapUnavailable(t *testing.T) {
	hh := env(t)
	bin := filepath.Join(t.TempDir(), "heapwork-noprofiler")
	cmd := exec.Command(hh.goBin, "build", "-tags=noprofiler", "-o", bin, ".")
	cmd.Dir = filepath.Join(filepath.Dir(hh.cpuworkSrc), "heapwork")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	for _, c := range []struct {
		bin  string
		args []string
		want string
	}{
		{bin, nil, "does not link Go's memory profiler"},
		{hh.buildWorkload(t, "heapwork", "", ""), []string{"-rate=0"}, "MemProfileRate is 0"},
	} {
		p := startHeapwork(t, c.bin, c.args...)
		r := hh.gspy(t, 60*time.Second, "profile", "heap", "--pid="+strconv.Itoa(p.pid), "-o", filepath.Join(t.TempDir(), "x.pb.gz"))
		if r.exitCode == 0 || !strings.Contains(r.stderr, "FAILED_PRECONDITION") || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s %v: exit %d, stderr %q; want FAILED_PRECONDITION and %q", c.bin, c.args, r.exitCode, r.stderr, c.want)
		}
		if heap := targetHeap(t, hh, p.pid); !strings.HasPrefix(heap, "no: ") || !strings.Contains(heap, c.want) {
			t.Errorf("%s %v: gspy targets says HEAP %q, want no: ...%s...", c.bin, c.args, heap, c.want)
		}
	}
	// And yes for a process whose heap profile can be read.
	p := startHeapwork(t, hh.buildWorkload(t, "heapwork", "", ""))
	if heap := targetHeap(t, hh, p.pid); heap != "yes" {
		t.Errorf("gspy targets says HEAP %q for heapwork, want yes", heap)
	}
}

// targetHeap is pid's HEAP column in `gspy targets`.
func targetHeap(t *testing.T, hh *harness, pid int) string {
	t.Helper()
	for _, line := range strings.Split(hh.gspy(t, 30*time.Second, "targets").stdout, "\n") {
		if f := strings.Split(line, "\t"); len(f) == 8 && f[0] == strconv.Itoa(pid) {
			return f[6]
		}
	}
	t.Errorf("gspy targets does not list pid %d", pid)
	return ""
}
