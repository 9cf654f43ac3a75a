package push

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{}
)

// buildWorkload builds tests/workloads/NAME (with build tags) once.
func buildWorkload(t *testing.T, name string, tags string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := name + "/" + tags
	if bin, ok := buildCache[key]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "gspy-push-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	args := []string{"build", "-o", bin}
	if tags != "" {
		args = append(args, "-tags="+tags)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = filepath.Join("..", "workloads", name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, out)
	}
	buildCache[key] = bin
	return bin
}

// proc is a workload that prints JSON lines and reads a "go" line.
type proc struct {
	cmd   *exec.Cmd
	pid   int
	stdin io.WriteCloser
	lines chan map[string]any
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), lines: make(chan map[string]any, 16)}
	p.cmd.Stderr = os.Stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.lines <- m
			}
		}
		close(p.lines)
	}()
	p.pid = p.cmd.Process.Pid
	p.expect(t, "ready", 30*time.Second)
	return p
}

func (p *proc) expect(t *testing.T, event string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-p.lines:
			if !ok {
				t.Fatalf("pid %d exited before %q", p.pid, event)
			}
			if m["event"] == event {
				return m
			}
		case <-deadline:
			t.Fatalf("pid %d: no %q within %v", p.pid, event, timeout)
		}
	}
}

// typeIDs names the profile types of a received profile as the backend
// does: NAME:SAMPLE_TYPE:SAMPLE_UNIT:PERIOD_TYPE:PERIOD_UNIT per sample
// type (Pyroscope's pkg/model profile type IDs), Parca appending ":delta"
// when the profile has a duration (its querier's ProfileTypes).
func typeIDs(r *received) []string {
	var out []string
	pt := r.prof.PeriodType
	for _, st := range r.prof.SampleType {
		id := fmt.Sprintf("%s:%s:%s:%s:%s", r.labels["__name__"], st.Type, st.Unit, pt.Type, pt.Unit)
		if r.backend == "parca" && r.prof.DurationNanos > 0 {
			id += ":delta"
		}
		out = append(out, id)
	}
	return out
}

func ofPid(ps []received, pid int) []received {
	var out []received
	for _, p := range ps {
		if p.labels["pid"] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

func hasFunction(s *profile.Sample, name string) bool {
	for _, l := range s.Location {
		for _, line := range l.Line {
			if line.Function.Name == name {
				return true
			}
		}
	}
	return false
}

func valueIndex(p *profile.Profile, typ string) int {
	for i, st := range p.SampleType {
		if st.Type == typ {
			return i
		}
	}
	return -1
}

// sumBy adds up sample type `typ` over the samples `keep` accepts.
func sumBy(ps []received, name, typ string, keep func(*profile.Sample) bool) int64 {
	var total int64
	for _, r := range ps {
		if r.labels["__name__"] != name {
			continue
		}
		i := valueIndex(r.prof, typ)
		if i < 0 {
			continue
		}
		for _, s := range r.prof.Sample {
			if keep(s) {
				total += s.Value[i]
			}
		}
	}
	return total
}

func label(s *profile.Sample, k string) string {
	if v := s.Label[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol*want }

// TestPushProfileTypes: with the default --push-profiles (cpu, block, wall,
// heap, goroutine), both backends' receivers get, for blockwork (five goroutines that
// wait 25 ms at a time in known functions, one that spins) and heapwork
// (64 MiB retained in main.retainBig, then garbage churned in
// main.churnLoop), block, wall and heap profiles named by each backend's
// conventions, that decode, and whose values match the workloads' own
// measures: the waiting time of each scenario (block, wall), the bytes
// churned (the heap's alloc deltas), the bytes retained (the heap in use,
// equal to the program's own heap profile). A binary without the memory
// profiler gets no heap profile and is counted. The sampled blocking
// metrics match the waiting time too.
func TestPushProfileTypes(t *testing.T) {
	blockworkBin := buildWorkload(t, "blockwork", "")
	heapworkBin := buildWorkload(t, "heapwork", "")
	noprofBin := buildWorkload(t, "heapwork", "noprofiler")
	pyroStore, parcaStore := &store{}, &store{}
	pyro := startPyroscope(t, pyroStore, "127.0.0.1:0", nil)
	parca := startParca(t, parcaStore)
	d := startDaemon(t, "--push-pyroscope-url=http://"+pyro.addr, "--push-parca-url=http://"+parca.addr,
		"--push-interval=1s", "--push-exe="+blockworkBin+","+heapworkBin+","+noprofBin)

	own := filepath.Join(t.TempDir(), "own.pb.gz")
	heap := startProc(t, heapworkBin, "-out="+own, "-churn=3s")
	noprof := startProc(t, noprofBin, "-out="+filepath.Join(t.TempDir(), "noprof.pb.gz"))
	block := startProc(t, blockworkBin, "-for=4s", "-wait=25ms", "-spin=4s")
	waitFor(t, "gspyd to watch the 3 workloads", 20*time.Second, func() bool {
		return d.metric(t, "gspy_continuous_processes") == 3
	})

	// The sampled metrics of blockwork, scraped as it runs: its series go
	// with it when it exits.
	var lastMetrics sync.Map // reason -> seconds
	stopScrape := make(chan struct{})
	scraped := make(chan struct{})
	go func() {
		defer close(scraped)
		for {
			select {
			case <-stopScrape:
				return
			case <-time.After(100 * time.Millisecond):
			}
			for reason, v := range sampledWaitSeconds(d, block.pid) {
				lastMetrics.Store(reason, v)
			}
		}
	}()

	io.WriteString(heap.stdin, "go\n")
	io.WriteString(block.stdin, "go\n")
	doneLine := block.expect(t, "done", 30*time.Second)
	churnedLine := heap.expect(t, "churned", 30*time.Second)
	// Two more cuts for heapwork's churn, published by its last GCs.
	time.Sleep(2500 * time.Millisecond)
	heap.cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, "the last profiles", 30*time.Second, func() bool {
		return d.metric(t, "gspy_continuous_processes") == 1 &&
			d.metric(t, "gspy_push_queue_profiles", "backend=pyroscope") == 0 &&
			d.metric(t, "gspy_push_queue_profiles", "backend=parca") == 0
	})
	close(stopScrape)
	<-scraped
	time.Sleep(200 * time.Millisecond) // the response of the last request

	var truth map[string]struct {
		Count   int   `json:"count"`
		TotalNs int64 `json:"total_ns"`
	}
	b, _ := json.Marshal(doneLine["truth"])
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	churned := int64(churnedLine["bytes"].(float64))

	pyroAll, pyroErrs, _ := pyroStore.snapshot()
	parcaAll, parcaErrs, _ := parcaStore.snapshot()
	for _, e := range append(pyroErrs, parcaErrs...) {
		t.Error(e)
	}

	// The type names each backend sees.
	wantTypes := map[string]map[string]bool{
		"pyroscope": {
			"process_cpu:samples:count:cpu:nanoseconds":   true,
			"process_cpu:cpu:nanoseconds:cpu:nanoseconds": true,
			"block:contentions:count:contentions:count":   true,
			"block:delay:nanoseconds:contentions:count":   true,
			"wall:samples:count:wall:nanoseconds":         true,
			"wall:wall:nanoseconds:wall:nanoseconds":      true,
			"memory:alloc_objects:count:space:bytes":      true,
			"memory:alloc_space:bytes:space:bytes":        true,
			"memory:inuse_objects:count:space:bytes":      true,
			"memory:inuse_space:bytes:space:bytes":        true,
			"goroutines:goroutine:count:goroutine:count":  true,
		},
		"parca": {
			"process_cpu:samples:count:cpu:nanoseconds:delta":   true,
			"process_cpu:cpu:nanoseconds:cpu:nanoseconds:delta": true,
			"block:contentions:count:contentions:count:delta":   true,
			"block:delay:nanoseconds:contentions:count:delta":   true,
			"wall:samples:count:wallclock:nanoseconds:delta":    true,
			"wall:time:nanoseconds:wallclock:nanoseconds:delta": true,
			"memory:alloc_objects:count:space:bytes:delta":      true,
			"memory:alloc_space:bytes:space:bytes:delta":        true,
			"memory:inuse_objects:count:space:bytes":            true,
			"memory:inuse_space:bytes:space:bytes":              true,
			"goroutine:goroutine:count:goroutine:count":         true,
		},
	}
	for backend, all := range map[string][]received{"pyroscope": pyroAll, "parca": parcaAll} {
		seen := map[string]int{}
		for i := range all {
			r := &all[i]
			if backend == "pyroscope" && r.labels["__delta__"] != "false" {
				t.Errorf("pyroscope: series %v without __delta__=false", r.labels)
			}
			for _, id := range typeIDs(r) {
				seen[id]++
				if !wantTypes[backend][id] {
					t.Errorf("%s: unexpected profile type %s", backend, id)
				}
			}
		}
		for id := range wantTypes[backend] {
			if seen[id] == 0 {
				t.Errorf("%s: no profile of type %s", backend, id)
			}
		}
		ids := make([]string, 0, len(seen))
		for id, n := range seen {
			ids = append(ids, fmt.Sprintf("%s x%d", id, n))
		}
		sort.Strings(ids)
		t.Logf("%s received:\n  %s", backend, strings.Join(ids, "\n  "))
	}

	// Block and wall: the waiting time of each scenario, against
	// blockwork's own measure of its waits.
	scenarioFunc := map[string]string{"chan": "main.chanReceive", "select": "main.selectWait",
		"mutex": "main.mutexLock", "sleep": "main.sleep", "net": "main.(*tcpPair).netRead"}
	for backend, all := range map[string][]received{"pyroscope": pyroAll, "parca": parcaAll} {
		ps := ofPid(all, block.pid)
		wallType := "wall"
		if backend == "parca" {
			wallType = "time"
		}
		for scenario, fn := range scenarioFunc {
			want := float64(truth[scenario].TotalNs)
			blockNs := sumBy(ps, "block", "delay", func(s *profile.Sample) bool {
				return label(s, "scenario") == scenario && hasFunction(s, fn)
			})
			wallNs := sumBy(ps, "wall", wallType, func(s *profile.Sample) bool {
				return label(s, "scenario") == scenario && label(s, "state") == "waiting" && hasFunction(s, fn)
			})
			t.Logf("%s: %s (%s): waited %.3fs by its own measure; block %.3fs, wall waiting %.3fs",
				backend, scenario, fn, want/1e9, float64(blockNs)/1e9, float64(wallNs)/1e9)
			if !within(float64(blockNs), want, 0.10) {
				t.Errorf("%s: block delay of %s in %s = %.3fs, want %.3fs +-10%%", backend, scenario, fn, float64(blockNs)/1e9, want/1e9)
			}
			if !within(float64(wallNs), want, 0.10) {
				t.Errorf("%s: wall waiting time of %s in %s = %.3fs, want %.3fs +-10%%", backend, scenario, fn, float64(wallNs)/1e9, want/1e9)
			}
		}
		// Running time is CPU time (the spinning goroutine gets less than
		// its wall-clock time on a loaded machine): the wall profiles'
		// running part must be the CPU profiles' time for it, within the
		// time it existed.
		running := sumBy(ps, "wall", wallType, func(s *profile.Sample) bool {
			return label(s, "scenario") == "spin" && label(s, "state") == "running"
		})
		cpu := sumBy(ps, "process_cpu", "cpu", func(s *profile.Sample) bool {
			return label(s, "scenario") == "spin"
		})
		spin := float64(truth["spin"].TotalNs)
		t.Logf("%s: spin ran %.3fs by its own (wall-clock) measure; wall running %.3fs, CPU profiles %.3fs",
			backend, spin/1e9, float64(running)/1e9, float64(cpu)/1e9)
		if running <= 0 || running != cpu || float64(running) > 1.1*spin {
			t.Errorf("%s: wall running time of the spinning goroutine %.3fs, its CPU profiles %.3fs, its own measure %.3fs",
				backend, float64(running)/1e9, float64(cpu)/1e9, spin/1e9)
		}
	}

	// The sampled metrics: the last scrape before blockwork exited, against
	// the pushed block profiles' delay for the same wait reason (every
	// goroutine: blockwork's main goroutine waits in a chan receive too,
	// for its scenarios to end).
	chanReason := ""
	for _, r := range ofPid(pyroAll, block.pid) {
		for _, s := range r.prof.Sample {
			if r.labels["__name__"] == "block" && label(s, "scenario") == "chan" {
				chanReason = label(s, "wait_reason")
			}
		}
	}
	profiled := float64(sumBy(ofPid(pyroAll, block.pid), "block", "delay", func(s *profile.Sample) bool {
		return label(s, "wait_reason") == chanReason
	})) / 1e9
	if v, ok := lastMetrics.Load(chanReason); !ok {
		t.Errorf("no gspy_go_block_sampled_wait_seconds_total{reason=%q} for blockwork", chanReason)
	} else {
		t.Logf("gspy_go_block_sampled_wait_seconds_total{reason=%q}: %.3f at the last scrape; block profiles %.3fs; the chan scenario alone waited %.3fs",
			chanReason, v, profiled, float64(truth["chan"].TotalNs)/1e9)
		// Scrapes come every 100 ms: the last one may miss a little.
		if got := v.(float64); got < 0.9*profiled || got > 1.01*profiled || got < float64(truth["chan"].TotalNs)/1e9 {
			t.Errorf("sampled wait seconds for %q = %.3f, want about %.3f (and above the chan scenario's)", chanReason, got, profiled)
		}
	}

	// Heap: the churn as alloc deltas, the retained memory as in use.
	ownProf := readProfile(t, own)
	ownRetained := sumProfile(ownProf, "inuse_space", "main.retainBig")
	// Go's own estimate of what churnLoop allocated (sampled and scaled as
	// gspy's are): the pushed deltas must add up to it.
	ownChurn := sumProfile(readProfile(t, own+".churned"), "alloc_space", "main.churnLoop")
	for backend, all := range map[string][]received{"pyroscope": pyroAll, "parca": parcaAll} {
		ps := ofPid(all, heap.pid)
		alloc := sumBy(ps, "memory", "alloc_space", func(s *profile.Sample) bool { return hasFunction(s, "main.churnLoop") })
		t.Logf("%s: alloc_space of main.churnLoop summed over the deltas %d; the program's own heap profile %d; bytes churned %d",
			backend, alloc, ownChurn, churned)
		if !within(float64(alloc), float64(ownChurn), 0.01) {
			t.Errorf("%s: alloc_space of main.churnLoop summed over the deltas = %d, the program's own heap profile says %d", backend, alloc, ownChurn)
		}
		// A sampled estimate (one sample per 512 KiB): plausible, not exact.
		if !within(float64(alloc), float64(churned), 0.4) {
			t.Errorf("%s: alloc_space of main.churnLoop = %d, but the workload churned %d", backend, alloc, churned)
		}
		var last *received
		for i := range ps {
			r := &ps[i]
			if r.labels["__name__"] == "memory" && valueIndex(r.prof, "inuse_space") >= 0 &&
				(last == nil || r.prof.TimeNanos+r.prof.DurationNanos > last.prof.TimeNanos+last.prof.DurationNanos) {
				last = r
			}
		}
		if last == nil {
			t.Errorf("%s: no in-use heap profile of heapwork", backend)
			continue
		}
		retained := sumProfile(last.prof, "inuse_space", "main.retainBig")
		t.Logf("%s: inuse_space of main.retainBig %d, the program's own profile %d", backend, retained, ownRetained)
		if retained != ownRetained || retained < 60<<20 {
			t.Errorf("%s: inuse_space of main.retainBig = %d, the program's own heap profile says %d", backend, retained, ownRetained)
		}
	}
	for _, all := range [][]received{pyroAll, parcaAll} {
		for _, r := range ofPid(all, noprof.pid) {
			if r.labels["__name__"] == "memory" {
				t.Errorf("%s: a heap profile of the binary without the memory profiler", r.backend)
			}
		}
	}
	if v := d.metric(t, "gspy_continuous_heap_unavailable_total"); v != 1 {
		t.Errorf("gspy_continuous_heap_unavailable_total = %v, want 1 (the noprofiler build)", v)
	}
}

// sampledWaitSeconds: gspy_go_block_sampled_wait_seconds_total of pid, by
// reason (empty when the scrape fails).
func sampledWaitSeconds(d *daemon, pid int) map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get("http://" + d.metricsAddr + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return out
	}
	f, ok := families["gspy_go_block_sampled_wait_seconds_total"]
	if !ok {
		return out
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["pid"] == strconv.Itoa(pid) {
			out[labels["reason"]] = m.GetCounter().GetValue()
		}
	}
	return out
}

func readProfile(t *testing.T, path string) *profile.Profile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

func sumProfile(p *profile.Profile, typ, fn string) int64 {
	i := valueIndex(p, typ)
	if i < 0 {
		return -1
	}
	var total int64
	for _, s := range p.Sample {
		if hasFunction(s, fn) {
			total += s.Value[i]
		}
	}
	return total
}
