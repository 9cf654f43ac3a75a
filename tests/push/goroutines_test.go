package push

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

var (
	goProfileCount = regexp.MustCompile(`^(\d+) @`)
	goProfileFrame = regexp.MustCompile(`^#\t0x[0-9a-f]+\t(\S+)\+0x[0-9a-f]+\t`)
)

// goGoroutineCounts reads Go's own debug=1 goroutine profile: the count per
// "labels|f1;f2;..." (leaf first, as printed: the runtime's frames at the
// top left out, as pprof's printStackRecord does).
func goGoroutineCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int64{}
	var count int64
	labels := ""
	var funcs []string
	flush := func() {
		if count > 0 {
			out[labels+"|"+strings.Join(funcs, ";")] += count
		}
		count, labels, funcs = 0, "", nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case goProfileCount.MatchString(line):
			flush()
			count, _ = strconv.ParseInt(goProfileCount.FindStringSubmatch(line)[1], 10, 64)
		case strings.HasPrefix(line, "# labels: "):
			labels = strings.TrimPrefix(line, "# labels: ")
		case goProfileFrame.MatchString(line):
			funcs = append(funcs, goProfileFrame.FindStringSubmatch(line)[1])
		}
	}
	flush()
	return out
}

// pushedGoroutineCounts groups a pushed goroutine profile the same way.
func pushedGoroutineCounts(p *profile.Profile) map[string]int64 {
	out := map[string]int64{}
	for _, s := range p.Sample {
		var funcs []string
		shown := false
		for _, loc := range s.Location {
			for _, l := range loc.Line {
				name := l.Function.Name
				rt := strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "internal/runtime/")
				if name != "runtime.goexit" && (shown || !rt) {
					shown = true
					funcs = append(funcs, name)
				}
			}
		}
		var kv []string
		for k, vs := range s.Label {
			for _, v := range vs {
				kv = append(kv, fmt.Sprintf("%q:%q", k, v))
			}
		}
		sort.Strings(kv)
		labels := ""
		if len(kv) > 0 {
			labels = "{" + strings.Join(kv, ", ") + "}"
		}
		out[labels+"|"+strings.Join(funcs, ";")] += s.Value[0]
	}
	return out
}

// TestPushGoroutines: --push-profiles=goroutine pushes, every interval, the
// goroutines of tests/workloads/goroutines (3250 parked in known functions,
// 400 of them with pprof labels) to both backends, named as each names
// goroutine profiles; the count of every stack and label set equals Go's
// own runtime/pprof goroutine profile written inside the process while
// nothing moves (its main goroutine aside: in WriteTo there, reading stdin
// here).
func TestPushGoroutines(t *testing.T) {
	bin := buildWorkload(t, "goroutines", "")
	pyroStore, parcaStore := &store{}, &store{}
	pyro := startPyroscope(t, pyroStore, "127.0.0.1:0", nil)
	parca := startParca(t, parcaStore)
	own := filepath.Join(t.TempDir(), "own.txt")
	w := startProc(t, bin, "-profile="+own)
	d := startDaemon(t, "--push-pyroscope-url=http://"+pyro.addr, "--push-parca-url=http://"+parca.addr,
		"--push-interval=1s", "--push-profiles=goroutine", "--push-exe="+bin)
	waitFor(t, "two goroutine profiles at each backend", 30*time.Second, func() bool {
		p, _, _ := pyroStore.snapshot()
		q, _, _ := parcaStore.snapshot()
		return len(ofPid(p, w.pid)) >= 2 && len(ofPid(q, w.pid)) >= 2
	})
	want := goGoroutineCounts(t, own)
	dropMain := func(m map[string]int64) int64 {
		var n int64
		for k, c := range m {
			if strings.HasSuffix(k, ";main.main") || strings.Contains(k, ";main.main;") || strings.HasSuffix(k, "|main.main") {
				n += c
				delete(m, k)
			}
		}
		return n
	}
	if n := dropMain(want); n != 1 {
		t.Errorf("Go's profile: %d goroutines in main.main, want 1", n)
	}
	var wantTotal int64
	for _, c := range want {
		wantTotal += c
	}
	if wantTotal < 3000 {
		t.Fatalf("Go's profile has %d goroutines: the workload did not start", wantTotal)
	}
	for backend, st := range map[string]*store{"pyroscope": pyroStore, "parca": parcaStore} {
		all, errs, _ := st.snapshot()
		for _, e := range errs {
			t.Error(e)
		}
		wantID := map[string]string{
			"pyroscope": "goroutines:goroutine:count:goroutine:count",
			"parca":     "goroutine:goroutine:count:goroutine:count",
		}[backend]
		for i, p := range ofPid(all, w.pid) {
			if ids := typeIDs(&p); len(ids) != 1 || ids[0] != wantID {
				t.Errorf("%s: profile types %v, want %s", backend, ids, wantID)
			}
			got := pushedGoroutineCounts(p.prof)
			if n := dropMain(got); n != 1 {
				t.Errorf("%s: %d goroutines in main.main, want 1", backend, n)
			}
			var gotTotal int64
			mismatches := 0
			for k, c := range got {
				gotTotal += c
				if want[k] != c {
					mismatches++
					if mismatches <= 5 {
						t.Errorf("%s profile %d: %d goroutines at %s, Go's profile %d", backend, i, c, k, want[k])
					}
				}
			}
			for k, c := range want {
				if _, ok := got[k]; !ok {
					mismatches++
					if mismatches <= 5 {
						t.Errorf("%s profile %d: no goroutine at %s, Go's profile %d", backend, i, k, c)
					}
				}
			}
			if i == 0 {
				t.Logf("%s: %d goroutines in %d stacks and label sets, Go's profile %d in %d; %d differ",
					backend, gotTotal, len(got), wantTotal, len(want), mismatches)
			}
		}
	}
	if n := d.metric(t, "gspy_continuous_profiles_total", "type=goroutine"); n < 2 {
		t.Errorf("gspy_continuous_profiles_total{type=goroutine} = %v, want >= 2", n)
	}
}
