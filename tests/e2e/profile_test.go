package e2e

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

const (
	shareThreshold = 0.05 // functions with at least this flat share are compared
	shareTolerance = 0.05 // allowed difference in flat share (percentage points / 100)
)

// Functions of cpuwork's split mode and the goroutine (handler label) that runs them.
var handlerOf = map[string]string{
	"main.spinAlpha": "alpha",
	"main.spinBeta":  "beta",
	"main.mix":       "beta", // inlined into main.spinBeta
	"main.spinGamma": "beta",
}

func readProfile(t *testing.T, path string) *profile.Profile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("opening profile: %v", err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("%s is not a valid profile: %v", path, err)
	}
	return p
}

// checkPprofRaw runs `go tool pprof -raw` on a profile gspy wrote.
func checkPprofRaw(t *testing.T, path string) {
	t.Helper()
	cmd := exec.Command(h.goBin, "tool", "pprof", "-raw", path)
	cmd.Env = append(os.Environ(), "PPROF_TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("go tool pprof -raw %s: %v\n%s", path, err, truncate(string(out), 4000))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n...(truncated)"
}

// checkCPUConventions checks gspy's sample and period types.
func checkCPUConventions(t *testing.T, p *profile.Profile) {
	t.Helper()
	var st []string
	for _, s := range p.SampleType {
		st = append(st, s.Type+"/"+s.Unit)
	}
	if got, want := strings.Join(st, " "), "samples/count cpu/nanoseconds"; got != want {
		t.Errorf("sample types = [%s], want [%s]", got, want)
	}
	if p.PeriodType == nil || p.PeriodType.Type != "cpu" || p.PeriodType.Unit != "nanoseconds" {
		t.Errorf("period type = %v, want cpu/nanoseconds", p.PeriodType)
	}
	if p.Period <= 0 {
		t.Errorf("period = %d, want > 0", p.Period)
	}
}

// valueIndex picks cpu/nanoseconds, else samples/count, else the last type.
func valueIndex(p *profile.Profile) int {
	for _, want := range []string{"cpu", "samples"} {
		for i, s := range p.SampleType {
			if s.Type == want {
				return i
			}
		}
	}
	return len(p.SampleType) - 1
}

// frames lists a sample's function names, leaf first, inline frames expanded.
func frames(s *profile.Sample) []string {
	var out []string
	for _, loc := range s.Location {
		if len(loc.Line) == 0 {
			out = append(out, fmt.Sprintf("<0x%x>", loc.Address))
			continue
		}
		for _, ln := range loc.Line {
			name := "<nil function>"
			if ln.Function != nil {
				name = ln.Function.Name
			}
			out = append(out, name)
		}
	}
	return out
}

// leaf is the function a sample's CPU time is charged to (Location[0].Line[0]).
//
// Go's own profiler sometimes charges a sample to runtime.asyncPreempt: when
// SIGPROF is delivered together with the scheduler's preemption signal, the
// preemption handler has already pushed a call to asyncPreempt, so the
// interrupted function shows up as its caller. The CPU was really spent in
// that caller, so asyncPreempt is skipped here (in both profiles).
func leaf(s *profile.Sample) string {
	f := frames(s)
	if len(f) == 0 {
		return "<no frames>"
	}
	if f[0] == "runtime.asyncPreempt" && len(f) > 1 {
		return f[1]
	}
	return f[0]
}

type shares struct {
	flat    map[string]float64
	total   int64
	samples int64 // samples/count sum (Go aggregates identical stacks)
	unit    string
}

func flatShares(p *profile.Profile) shares {
	idx := valueIndex(p)
	sh := shares{flat: map[string]float64{}, unit: p.SampleType[idx].Type + "/" + p.SampleType[idx].Unit}
	raw := map[string]int64{}
	for _, s := range p.Sample {
		v := s.Value[idx]
		raw[leaf(s)] += v
		sh.total += v
	}
	sh.samples = sampleCount(p)
	for fn, v := range raw {
		if sh.total > 0 {
			sh.flat[fn] = float64(v) / float64(sh.total)
		}
	}
	return sh
}

func logShares(t *testing.T, goSh, gspySh shares) {
	t.Helper()
	fns := map[string]bool{}
	for fn := range goSh.flat {
		fns[fn] = true
	}
	for fn := range gspySh.flat {
		fns[fn] = true
	}
	var list []string
	for fn := range fns {
		list = append(list, fn)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := goSh.flat[list[i]]+gspySh.flat[list[i]], goSh.flat[list[j]]+gspySh.flat[list[j]]
		if a != b {
			return a > b
		}
		return list[i] < list[j]
	})
	var b strings.Builder
	fmt.Fprintf(&b, "flat shares (go: %d samples, %s total %d; gspy: %d samples, %s total %d):\n",
		goSh.samples, goSh.unit, goSh.total, gspySh.samples, gspySh.unit, gspySh.total)
	fmt.Fprintf(&b, "    %7s %7s %7s  %s\n", "go%", "gspy%", "diff", "function")
	for i, fn := range list {
		if i >= 25 {
			fmt.Fprintf(&b, "    ... %d more\n", len(list)-i)
			break
		}
		g, s := goSh.flat[fn]*100, gspySh.flat[fn]*100
		fmt.Fprintf(&b, "    %7.2f %7.2f %+7.2f  %s\n", g, s, s-g, fn)
	}
	t.Log(b.String())
}

// compareShares checks every function with >= 5% flat share in either
// profile has a share in the other within 5 percentage points.
func compareShares(t *testing.T, goSh, gspySh shares) {
	t.Helper()
	checked := map[string]bool{}
	for _, sh := range []shares{goSh, gspySh} {
		for fn, v := range sh.flat {
			if v < shareThreshold || checked[fn] {
				continue
			}
			checked[fn] = true
			g, s := goSh.flat[fn], gspySh.flat[fn]
			if d := s - g; d > shareTolerance || d < -shareTolerance {
				// Sampling noise of the difference, for judging a failure.
				p := (g + s) / 2
				sigma := math.Sqrt(p*(1-p)/float64(max(goSh.samples, 1)) + p*(1-p)/float64(max(gspySh.samples, 1)))
				t.Errorf("flat share of %s: gspy %.2f%%, Go's profile %.2f%% (differ by %.2f points, allowed %.0f; sampling noise sigma %.2f points)",
					fn, s*100, g*100, (s-g)*100, shareTolerance*100, sigma*100)
			}
		}
	}
	if len(checked) == 0 {
		t.Errorf("no function has >= %.0f%% flat share in either profile", shareThreshold*100)
	}
}

func labelValues(p *profile.Profile, key string) map[string]int {
	vals := map[string]int{}
	for _, s := range p.Sample {
		for _, v := range s.Label[key] {
			vals[v]++
		}
	}
	return vals
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkGoroutineLabels checks that samples in the workload's functions carry
// the handler label and goroutine id of the goroutine that runs them.
func checkGoroutineLabels(t *testing.T, p *profile.Profile, goids map[string]int64) {
	t.Helper()
	matched := map[string]int64{}
	bad := 0
	sidx := -1
	for i, st := range p.SampleType {
		if st.Type == "samples" {
			sidx = i
		}
	}
	for _, s := range p.Sample {
		want, ok := handlerOf[leaf(s)]
		if !ok {
			continue
		}
		wantGoid := goids[want]
		gotGoid := s.NumLabel["goid"]
		gotHandler := s.Label["handler"]
		if len(gotGoid) != 1 || gotGoid[0] != wantGoid || len(gotHandler) != 1 || gotHandler[0] != want {
			if bad < 5 {
				t.Errorf("sample with leaf %s: goid=%v handler=%v, want goid=[%d] handler=[%s]",
					leaf(s), gotGoid, gotHandler, wantGoid, want)
			}
			bad++
			continue
		}
		if sidx >= 0 {
			matched[want] += s.Value[sidx]
		} else {
			matched[want]++
		}
	}
	if bad > 0 {
		t.Errorf("%d samples in cpuwork's functions have a wrong or missing goid/handler label", bad)
	}
	t.Logf("goid/handler labels correct on %d alpha and %d beta samples (goids %v)", matched["alpha"], matched["beta"], goids)
	for _, g := range []string{"alpha", "beta"} {
		if matched[g] == 0 {
			t.Errorf("no sample of goroutine %s (goid %d) found with correct labels", g, goids[g])
		}
	}
}

// hasInlined reports whether some Location has fn as an inlined (not the
// outermost) Line with caller as the outermost Line.
func hasInlined(p *profile.Profile, fn, caller string) bool {
	for _, loc := range p.Location {
		n := len(loc.Line)
		if n < 2 || loc.Line[n-1].Function == nil || loc.Line[n-1].Function.Name != caller {
			continue
		}
		for _, ln := range loc.Line[:n-1] {
			if ln.Function != nil && ln.Function.Name == fn {
				return true
			}
		}
	}
	return false
}

// sampleCount sums the samples/count values (one sample may stand for several).
func sampleCount(p *profile.Profile) int64 {
	idx := -1
	for i, s := range p.SampleType {
		if s.Type == "samples" {
			idx = i
		}
	}
	var n int64
	for _, s := range p.Sample {
		if idx < 0 {
			n++
		} else {
			n += s.Value[idx]
		}
	}
	return n
}
