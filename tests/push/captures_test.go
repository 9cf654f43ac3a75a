package push

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// captured keeps the pushed profiles of a capture (gspy_capture_id set).
func captured(ps []received) []received {
	var out []received
	for _, p := range ps {
		if p.labels["gspy_capture_id"] != "" {
			out = append(out, p)
		}
	}
	return out
}

// inFunction counts the goroutines (or samples) of p whose stack holds fn.
func inFunction(p *profile.Profile, fn string) int64 {
	var n int64
	for _, s := range p.Sample {
		if hasFunction(s, fn) {
			n += s.Value[0]
		}
	}
	return n
}

// TestPushCaptures: with --capture-push, a capture that fires on spiky's
// goroutine leak reaches both backends as three profiles (CPU, wall, the
// goroutine dump), each named as that backend names its type, on the
// process's series with gspy_capture_rule and gspy_capture_id; the pushed
// dump holds the leaked goroutines, and the id is the capture's directory
// in the store. Continuous profiles of the same process carry neither
// label.
func TestPushCaptures(t *testing.T) {
	bin := buildWorkload(t, "spiky", "")
	pyroStore, parcaStore := &store{}, &store{}
	pyro := startPyroscope(t, pyroStore, "127.0.0.1:0", nil)
	parca := startParca(t, parcaStore)
	dir := t.TempDir()
	rule := "goroutines>1000;exe=" + bin
	startDaemon(t, "--push-pyroscope-url=http://"+pyro.addr, "--push-parca-url=http://"+parca.addr,
		"--push-interval=1s", "--push-profiles=cpu", "--push-exe="+bin,
		"--capture-rule="+rule, "--capture-push", "--capture-dir="+dir,
		"--capture-duration=1s", "--capture-interval=250ms")
	w := startProc(t, bin)
	time.Sleep(time.Second) // the rule's first looks
	if err := syscall.Kill(w.pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	leaked := int64(w.expect(t, "leaked", 10*time.Second)["n"].(float64))
	waitFor(t, "the capture's three profiles at each backend", 30*time.Second, func() bool {
		p, _, _ := pyroStore.snapshot()
		q, _, _ := parcaStore.snapshot()
		return len(captured(p)) >= 3 && len(captured(q)) >= 3
	})
	time.Sleep(500 * time.Millisecond) // anything more would arrive now
	wantTypes := map[string][]string{
		"pyroscope": {
			"goroutines:goroutine:count:goroutine:count",
			"process_cpu:cpu:nanoseconds:cpu:nanoseconds",
			"process_cpu:samples:count:cpu:nanoseconds",
			"wall:samples:count:wall:nanoseconds",
			"wall:wall:nanoseconds:wall:nanoseconds",
		},
		"parca": {
			"goroutine:goroutine:count:goroutine:count",
			"process_cpu:cpu:nanoseconds:cpu:nanoseconds:delta",
			"process_cpu:samples:count:cpu:nanoseconds:delta",
			"wall:samples:count:wallclock:nanoseconds:delta",
			"wall:time:nanoseconds:wallclock:nanoseconds:delta",
		},
	}
	for backend, st := range map[string]*store{"pyroscope": pyroStore, "parca": parcaStore} {
		all, errs, _ := st.snapshot()
		for _, e := range errs {
			t.Error(e)
		}
		caps := captured(all)
		if len(caps) != 3 {
			t.Errorf("%s: %d capture profiles, want 3 (one capture: cpu, wall, goroutines)", backend, len(caps))
		}
		var types []string
		for _, p := range caps {
			types = append(types, typeIDs(&p)...)
			id := p.labels["gspy_capture_id"]
			if p.labels["gspy_capture_rule"] != rule || p.labels["pid"] != strconv.Itoa(w.pid) {
				t.Errorf("%s: capture profile labels %v, want rule %q and pid %d", backend, p.labels, rule, w.pid)
			}
			if _, err := os.Stat(filepath.Join(dir, id, "capture.pb")); err != nil {
				t.Errorf("%s: gspy_capture_id %q is not a capture in the store: %v", backend, id, err)
			}
			if strings.HasPrefix(p.labels["__name__"], "goroutine") {
				n := inFunction(p.prof, "main.guiltyLeak")
				t.Logf("%s: the pushed dump holds %d goroutines in main.guiltyLeak (spiky leaked %d)", backend, n, leaked)
				if n < 1000 || n > leaked {
					t.Errorf("%s: the pushed dump holds %d goroutines in main.guiltyLeak, want over 1000 and at most %d", backend, n, leaked)
				}
			}
		}
		sort.Strings(types)
		if strings.Join(types, " ") != strings.Join(wantTypes[backend], " ") {
			t.Errorf("%s: capture profile types\n  %v\nwant\n  %v", backend, types, wantTypes[backend])
		}
		// The continuous CPU profiles go on, unmarked.
		continuous := 0
		for _, p := range ofPid(all, w.pid) {
			if p.labels["gspy_capture_id"] == "" && p.labels["gspy_capture_rule"] == "" {
				continuous++
			}
		}
		if continuous == 0 {
			t.Errorf("%s: no continuous profile of pid %d besides the capture's", backend, w.pid)
		}
	}
}
