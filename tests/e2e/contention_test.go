package e2e

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// contentionKinds: how gspy is asked for each of the program's own
// contention profiles, and the file heapwork wrote it to (out + suffix).
var contentionKinds = []struct {
	name, suffix string
	args         []string
}{
	{"mutex", ".mutex", []string{"profile", "mutex"}},
	{"block", ".block", []string{"profile", "block", "--source=runtime"}},
}

func gspyContention(t *testing.T, hh *harness, pid int, args []string, extra ...string) *profile.Profile {
	t.Helper()
	out := filepath.Join(t.TempDir(), "gspy-contention.pb.gz")
	r := hh.gspy(t, 60*time.Second, append(append(append([]string{}, args...), "--pid="+strconv.Itoa(pid), "-o", out), extra...)...)
	if r.exitCode != 0 {
		t.Fatalf("gspy %v failed: %s", args, r.stderr)
	}
	return readProfile(t, out)
}

// compareContention: the same sample types, period and stacks (location
// addresses and function:line of every frame, inlined ones included) with
// the same contentions and delay, and the workload's own contention in
// Go's profile (so equality is not of two empty profiles).
func compareContention(t *testing.T, kind string, own, gspy *profile.Profile) {
	t.Helper()
	want := []string{"contentions/count", "delay/nanoseconds"}
	var got, goTypes []string
	for _, st := range gspy.SampleType {
		got = append(got, st.Type+"/"+st.Unit)
	}
	for _, st := range own.SampleType {
		goTypes = append(goTypes, st.Type+"/"+st.Unit)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(goTypes) != fmt.Sprint(want) {
		t.Errorf("%s sample types: gspy %v, Go %v, want %v", kind, got, goTypes, want)
	}
	if gspy.Period != own.Period || gspy.PeriodType.Type != own.PeriodType.Type || gspy.PeriodType.Unit != own.PeriodType.Unit {
		t.Errorf("%s period: gspy %d %v, Go %d %v", kind, gspy.Period, gspy.PeriodType, own.Period, own.PeriodType)
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
	var contend int64
	for _, k := range keys {
		if strings.Contains(k, ";main.contend.func1:") || strings.HasPrefix(k, "main.contend") {
			contend += a[k][0]
		}
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) && strings.HasPrefix(kind, "mutex") && runtimeOnly(k) && notLess(b[k], a[k]) {
			// go1.22+ records contention on the runtime's own locks in the
			// mutex profile, and the runtime may contend on them between
			// the program's snapshot and gspy's read: a stack of runtime
			// frames only may have grown, nothing else.
			t.Logf("%s: runtime-only stack grew after the program's snapshot: %s: Go %v, gspy %v", kind, k, a[k], b[k])
			continue
		}
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			bad++
			if bad <= 10 {
				t.Errorf("%s stack %s: Go %v, gspy %v", kind, k, a[k], b[k])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d stacks differ", kind, bad, len(keys))
	}
	if contend == 0 {
		t.Errorf("%s: Go's own profile shows no contention in main.contend (%d stacks)", kind, len(a))
	}
}

// runtimeOnly: every frame of a heapSamples key is in the runtime.
func runtimeOnly(key string) bool {
	key, _, _ = strings.Cut(key, " bytes=")
	for _, f := range strings.Split(key, ";") {
		if strings.HasPrefix(f, "0x") {
			continue
		}
		if !strings.HasPrefix(f, "runtime.") && !strings.HasPrefix(f, "internal/runtime/") {
			return false
		}
	}
	return true
}

// notLess: b is a (nil: none) or more, value by value.
func notLess(b, a []int64) bool {
	if b == nil {
		return false
	}
	for i := range b {
		if a != nil && b[i] < a[i] {
			return false
		}
	}
	return true
}

// TestContentionEqualsGo: gspy's mutex and block profiles, read from the
// runtime's xbuckets and bbuckets from outside, equal the profiles the
// program wrote itself with pprof.Lookup("mutex"/"block").WriteTo(w, 0) at
// the same moment (SetMutexProfileFraction(1), SetBlockProfileRate(1),
// contention, then nothing blocks): the same stacks with the same values,
// for every Go minor 1.18..1.27, stripped and PIE; on unstripped binaries
// also with the globals found by decoding (--no-symtab). One tolerance: a
// mutex-profile stack made of runtime frames only may have grown (the
// runtime's own lock contention after the program's snapshot).
func TestContentionEqualsGo(t *testing.T) {
	hh := env(t)
	cases := []booksCase{{"", "pie", nil}, {"go1.20.14", "pie", nil}}
	for _, v := range []string{"go1.18.10", "go1.19.13", "go1.20.14", "go1.21.13", "go1.22.12",
		"go1.23.12", "go1.24.13", "go1.25.14", "go1.26.11", "go1.27.4"} {
		cases = append(cases, booksCase{v, "", nil}, booksCase{v, "-s -w", nil})
	}
	for _, tc := range cases {
		t.Run(tc.name(), func(t *testing.T) {
			bin := hh.buildWorkload(t, "heapwork", tc.toolchain, tc.ldflags)
			p := startHeapwork(t, bin, append([]string{"-mutex", "-block"}, tc.args...)...)
			if tc.toolchain != "" && !strings.HasPrefix(p.version, tc.toolchain) {
				t.Fatalf("built by %s, wanted %s", p.version, tc.toolchain)
			}
			for _, k := range contentionKinds {
				own := readProfile(t, p.out+k.suffix)
				compareContention(t, k.name, own, gspyContention(t, hh, p.pid, k.args))
				if tc.ldflags == "" {
					compareContention(t, k.name+" --no-symtab", own, gspyContention(t, hh, p.pid, k.args, "--no-symtab"))
				}
			}
		})
	}
}

// TestContentionOff: a program that never turned the profiles on gets
// FAILED_PRECONDITION saying so and what to call, stripped or not.
func TestContentionOff(t *testing.T) {
	hh := env(t)
	for _, ldflags := range []string{"", "-s -w"} {
		p := startHeapwork(t, hh.buildWorkload(t, "heapwork", "", ldflags))
		for _, k := range contentionKinds {
			want := map[string]string{"mutex": "SetMutexProfileFraction", "block": "SetBlockProfileRate"}[k.name]
			r := hh.gspy(t, 60*time.Second, append(append([]string{}, k.args...), "--pid="+strconv.Itoa(p.pid), "-o", filepath.Join(t.TempDir(), "x.pb.gz"))...)
			if r.exitCode == 0 || !strings.Contains(r.stderr, "FAILED_PRECONDITION") || !strings.Contains(r.stderr, want) {
				t.Errorf("%s %q: exit %d, stderr %q; want FAILED_PRECONDITION naming %s", k.name, ldflags, r.exitCode, r.stderr, want)
			}
		}
	}
}
