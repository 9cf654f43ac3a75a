package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The runtime/metrics names gspy's books reader must report for Go 1.minor:
// exactly those the runtime itself has (notes/books.md §0).
func booksMetricNames(minor int) []string {
	names := []string{
		"/gc/cycles/automatic:gc-cycles", "/gc/cycles/forced:gc-cycles",
		"/gc/cycles/total:gc-cycles", "/gc/heap/goal:bytes", "/gc/pauses:seconds",
		"/sched/latencies:seconds",
	}
	if minor >= 19 {
		names = append(names, "/sched/gomaxprocs:threads", "/cgo/go-to-c-calls:calls")
	}
	if minor >= 20 {
		names = append(names, "/sync/mutex/wait/total:seconds")
	}
	if minor >= 21 {
		names = append(names, "/gc/gogc:percent", "/gc/gomemlimit:bytes", "/gc/heap/live:bytes")
	}
	if minor >= 22 {
		names = append(names, "/sched/pauses/stopping/gc:seconds", "/sched/pauses/stopping/other:seconds",
			"/sched/pauses/total/gc:seconds", "/sched/pauses/total/other:seconds")
	}
	if minor >= 26 {
		names = append(names, "/sched/threads/total:threads")
	}
	sort.Strings(names)
	return names
}

// Sampled by the runtime and fed by background wake-ups even in a quiet
// process: only A <= gspy <= B can be asserted.
var booksNoisy = map[string]bool{"/sched/latencies:seconds": true, "/sync/mutex/wait/total:seconds": true}

// Gauges: between A and B they may move either way.
var booksGauges = map[string]bool{
	"/gc/heap/goal:bytes": true, "/gc/heap/live:bytes": true, "/gc/gogc:percent": true,
	"/gc/gomemlimit:bytes": true, "/sched/gomaxprocs:threads": true, "/sched/threads/total:threads": true,
}

// booksValue is one metric as the workload encodes metrics.Read's sample.
type booksValue struct {
	Kind    string   `json:"kind"`
	Uint64  uint64   `json:"uint64"`
	Float64 string   `json:"float64"`
	Counts  []uint64 `json:"counts"`
	Buckets []string `json:"buckets"`
}

type booksRound struct {
	A, B            map[string]booksValue
	NumGC           uint32  `json:"num_gc"`
	PauseTotalNs    uint64  `json:"pause_total_ns"`
	PausesNs        []int64 `json:"pauses_ns"`
	PauseEndsUnixNs []int64 `json:"pause_ends_unix_ns"`
}

// gspyBooks is `gspy books --json`.
type gspyBooks struct {
	GoVersion string `json:"go_version"`
	Globals   map[string]struct {
		Addr uint64 `json:"addr"`
		How  string `json:"how"`
	} `json:"globals"`
	Metrics map[string]struct {
		Uint64  *uint64  `json:"uint64"`
		Float64 *string  `json:"float64"`
		Counts  []uint64 `json:"counts"`
		Buckets []string `json:"buckets"`
	} `json:"metrics"`
	Errors    map[string]string `json:"errors"`
	Disabled  map[string]string `json:"disabled"`
	PauseRing *struct {
		Pauses []struct {
			Cycle     uint32 `json:"cycle"`
			PauseNs   uint64 `json:"pause_ns"`
			EndUnixNs uint64 `json:"end_unix_ns"`
		} `json:"pauses"`
		Lost         uint64 `json:"lost"`
		PauseTotalNs uint64 `json:"pause_total_ns"`
	} `json:"pause_ring"`
}

// booksProc is a running tests/workloads/books.
type booksProc struct {
	cmd     *exec.Cmd
	pid     int
	version string
	lines   chan []byte
	stderr  bytes.Buffer
}

func startBooksWorkload(t *testing.T, bin string, args ...string) *booksProc {
	t.Helper()
	p := &booksProc{lines: make(chan []byte, 4)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stderr = &p.stderr
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
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			p.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(p.lines)
	}()
	var ready struct {
		Event     string `json:"event"`
		Pid       int    `json:"pid"`
		GoVersion string `json:"go_version"`
	}
	if err := json.Unmarshal(p.next(t, 120*time.Second), &ready); err != nil || ready.Event != "ready" {
		t.Fatalf("books workload: no ready line (%v)", err)
	}
	p.pid, p.version = ready.Pid, ready.GoVersion
	return p
}

func (p *booksProc) next(t *testing.T, timeout time.Duration) []byte {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.cmd.Wait()
			t.Fatalf("books workload exited (%v); stderr:\n%s", p.cmd.ProcessState, p.stderr.String())
		}
		return l
	case <-time.After(timeout):
		t.Fatalf("books workload: no line within %v", timeout)
	}
	return nil
}

// sandwich runs `between` between the workload's two metrics.Read (A, B).
func (p *booksProc) sandwich(t *testing.T, between func()) booksRound {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGUSR1)
	if l := p.next(t, 10*time.Second); !strings.Contains(string(l), `"a"`) {
		t.Fatalf("books workload: expected the a line, got %s", l)
	}
	between()
	p.cmd.Process.Signal(syscall.SIGUSR1)
	var round booksRound
	if err := json.Unmarshal(p.next(t, 10*time.Second), &round); err != nil {
		t.Fatalf("books workload round: %v", err)
	}
	return round
}

// round sandwiches `gspy books`.
func (p *booksProc) round(t *testing.T, hh *harness, gspyArgs ...string) (booksRound, gspyBooks) {
	t.Helper()
	var g gspyBooks
	round := p.sandwich(t, func() {
		r := hh.gspy(t, 30*time.Second, append([]string{"books", "--json", "--pid=" + strconv.Itoa(p.pid)}, gspyArgs...)...)
		if r.exitCode != 0 {
			t.Fatalf("gspy books failed: %s", r.stderr)
		}
		if err := json.Unmarshal([]byte(r.stdout), &g); err != nil {
			t.Fatalf("gspy books --json: %v\n%s", err, r.stdout)
		}
	})
	return round, g
}

func parseF(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("bad float %q: %v", s, err)
	}
	return f
}

// compareBooks checks gspy's values against A and B: every value within
// [A, B] (counters, histogram buckets), equal to A where A == B, and the
// histogram boundaries bit for bit. It returns whether the window was
// quiet: every metric but the noisy ones equal in A and B (only then can
// gauges be compared).
func compareBooks(t *testing.T, minor int, r booksRound, g gspyBooks) bool {
	t.Helper()
	quiet := true
	for _, name := range booksMetricNames(minor) {
		a, okA := r.A[name]
		b := r.B[name]
		if !okA {
			t.Fatalf("%s: the target's runtime/metrics lacks it (test table wrong?)", name)
		}
		gv, ok := g.Metrics[name]
		if !ok {
			t.Errorf("%s: gspy has no value (%s)", name, g.Errors[name])
			continue
		}
		switch a.Kind {
		case "uint64":
			if gv.Uint64 == nil {
				t.Errorf("%s: gspy's value is not a uint64", name)
				continue
			}
			v := *gv.Uint64
			if a.Uint64 == b.Uint64 {
				if v != a.Uint64 {
					t.Errorf("%s: gspy %d, runtime/metrics %d (before and after)", name, v, a.Uint64)
				}
			} else {
				if !booksNoisy[name] {
					quiet = false
				}
				if !booksGauges[name] && (v < a.Uint64 || v > b.Uint64) {
					t.Errorf("%s: gspy %d outside [%d, %d]", name, v, a.Uint64, b.Uint64)
				}
			}
		case "float64":
			if gv.Float64 == nil {
				t.Errorf("%s: gspy's value is not a float64", name)
				continue
			}
			v, fa, fb := parseF(t, *gv.Float64), parseF(t, a.Float64), parseF(t, b.Float64)
			if fa == fb && math.Float64bits(v) != math.Float64bits(fa) {
				t.Errorf("%s: gspy %v, runtime/metrics %v (bits differ)", name, v, fa)
			}
			if v < fa || v > fb {
				t.Errorf("%s: gspy %v outside [%v, %v]", name, v, fa, fb)
			}
			if fa != fb && !booksNoisy[name] {
				quiet = false
			}
		case "histogram":
			if len(gv.Buckets) != len(a.Buckets) || len(gv.Counts) != len(a.Counts) {
				t.Errorf("%s: gspy has %d buckets/%d counts, runtime/metrics %d/%d", name,
					len(gv.Buckets), len(gv.Counts), len(a.Buckets), len(a.Counts))
				continue
			}
			for i := range a.Buckets {
				if math.Float64bits(parseF(t, gv.Buckets[i])) != math.Float64bits(parseF(t, a.Buckets[i])) {
					t.Errorf("%s: boundary %d: gspy %s, runtime/metrics %s", name, i, gv.Buckets[i], a.Buckets[i])
					break
				}
			}
			for i := range a.Counts {
				v := gv.Counts[i]
				if v < a.Counts[i] || v > b.Counts[i] {
					t.Errorf("%s: bucket %d: gspy %d outside [%d, %d]", name, i, v, a.Counts[i], b.Counts[i])
					break
				}
				if a.Counts[i] != b.Counts[i] && !booksNoisy[name] {
					quiet = false
				}
			}
		default:
			t.Fatalf("%s: unexpected kind %q", name, a.Kind)
		}
	}
	// gspy reports exactly the version's metrics: none missing, none extra.
	var got []string
	for n := range g.Metrics {
		got = append(got, n)
	}
	for n := range g.Errors {
		got = append(got, n)
	}
	sort.Strings(got)
	if want := booksMetricNames(minor); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("gspy's metrics:\n  %v\nwant (go1.%d's runtime/metrics):\n  %v", got, minor, want)
	}
	if len(g.Disabled) > 0 {
		t.Errorf("series disabled: %v", g.Disabled)
	}
	return quiet
}

// comparePauseRing: the ring gspy read (its first read: everything the ring
// holds, oldest first) against debug.ReadGCStats after B, when no GC ran in
// between.
func comparePauseRing(t *testing.T, r booksRound, g gspyBooks) {
	t.Helper()
	total := r.A["/gc/cycles/total:gc-cycles"].Uint64
	if g.PauseRing == nil {
		t.Fatalf("gspy read no pause ring")
	}
	if uint64(r.NumGC) != total {
		t.Logf("a GC between B and ReadGCStats; pause ring not compared")
		return
	}
	ps := g.PauseRing.Pauses
	if len(ps) != len(r.PausesNs) || g.PauseRing.Lost != 0 {
		t.Fatalf("gspy: %d pauses (lost %d); ReadGCStats: %d", len(ps), g.PauseRing.Lost, len(r.PausesNs))
	}
	for i := range ps {
		p := ps[len(ps)-1-i] // ReadGCStats: newest first
		if p.Cycle != r.NumGC-uint32(i) || int64(p.PauseNs) != r.PausesNs[i] || int64(p.EndUnixNs) != r.PauseEndsUnixNs[i] {
			t.Fatalf("pause %d: gspy cycle %d %dns end %d; ReadGCStats cycle %d %dns end %d", i,
				p.Cycle, p.PauseNs, p.EndUnixNs, r.NumGC-uint32(i), r.PausesNs[i], r.PauseEndsUnixNs[i])
		}
	}
	if g.PauseRing.PauseTotalNs != r.PauseTotalNs {
		t.Errorf("pause total: gspy %d, ReadGCStats %d", g.PauseRing.PauseTotalNs, r.PauseTotalNs)
	}
}

type booksCase struct {
	toolchain, ldflags string
	args               []string
}

func (c booksCase) name() string {
	n := c.toolchain
	if n == "" {
		n = "installed"
	}
	if c.ldflags != "" {
		n += "_" + strings.NewReplacer(" ", "", "-", "").Replace(c.ldflags)
	}
	for _, a := range c.args {
		n += "_" + strings.NewReplacer("-", "", "=", "").Replace(a)
	}
	return n
}

// TestBooksEqualRuntimeMetrics: gspy's books, read from outside, equal the
// target's own runtime/metrics.Read at a quiet moment, metric by metric and
// histogram bucket by bucket, for every Go minor 1.18..1.27 (unstripped and
// stripped), PIE, and GC settings that take the heap goal's other branches.
// The pause ring equals debug.ReadGCStats. On unstripped binaries the
// globals found by decoding the runtime's code (--no-symtab) are the ones
// .symtab names.
func TestBooksEqualRuntimeMetrics(t *testing.T) {
	hh := env(t)
	cases := []booksCase{
		{"", "", nil},
		{"", "-s -w", nil},
		{"", "pie", nil},
		{"", "", []string{"-gogc=-1", "-memlimit=67108864"}},
		{"", "", []string{"-gogc=50", "-procs=1"}},
		{"go1.20.14", "pie", nil},
	}
	for _, v := range []string{"go1.18.10", "go1.19.13", "go1.20.14", "go1.21.13", "go1.22.12",
		"go1.23.12", "go1.24.13", "go1.25.14", "go1.26.11", "go1.27.4"} {
		cases = append(cases, booksCase{v, "", nil}, booksCase{v, "-s -w", nil})
	}
	for _, tc := range cases {
		t.Run(tc.name(), func(t *testing.T) {
			bin := hh.buildWorkloadCgo(t, "books", tc.toolchain, tc.ldflags, true)
			p := startBooksWorkload(t, bin, tc.args...)
			minor, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(p.version, "go1."), ".", 2)[0])
			if err != nil {
				t.Fatalf("version %q: %v", p.version, err)
			}
			quietRounds := 0
			for i := 0; i < 8 && quietRounds == 0; i++ {
				r, g := p.round(t, hh)
				if g.GoVersion != p.version {
					t.Fatalf("gspy says %s, the target %s", g.GoVersion, p.version)
				}
				if compareBooks(t, minor, r, g) {
					quietRounds++
					comparePauseRing(t, r, g)
				}
				if t.Failed() {
					t.Logf("gspy globals: %+v", g.Globals)
					return
				}
			}
			if quietRounds == 0 {
				t.Fatalf("no quiet window in 8 rounds: nothing could be compared exactly")
			}
			if tc.ldflags == "-s -w" {
				return
			}
			// Finders against .symtab.
			_, sym := p.round(t, hh)
			_, dec := p.round(t, hh, "--no-symtab")
			for name, s := range sym.Globals {
				d := dec.Globals[name]
				if minor < 21 && strings.HasPrefix(name, "extraM") {
					continue
				}
				if s.How != "symtab" || d.Addr != s.Addr {
					t.Errorf("global %s: symtab 0x%x (%s), decoded 0x%x (%s)", name, s.Addr, s.How, d.Addr, d.How)
				}
			}
		})
	}
}

// gcBooksInBackground runs `gspy gc --books` (at most 30 s) while the test
// goes on; ringRead is closed once its first read of the ring (256 pause
// lines) is printed. A test that makes GC cycles to be seen as new ones
// must wait for that read: a fixed pause is not enough when gspy is slow
// to start, and cycles made before the first read are listed in the ring.
func gcBooksInBackground(t *testing.T, hh *harness, args ...string) (ringRead <-chan struct{}, done <-chan gspyResult) {
	t.Helper()
	read, res := make(chan struct{}), make(chan gspyResult, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, hh.gspyBin, append([]string{"gc", "--books"}, args...)...)
	var se bytes.Buffer
	cmd.Stderr = &se
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting gspy gc --books: %v", err)
	}
	go func() {
		defer cancel()
		var so strings.Builder
		sc := bufio.NewScanner(stdout)
		lines := 0
		for sc.Scan() {
			so.WriteString(sc.Text() + "\n")
			if gcBooksLine.MatchString(sc.Text()) {
				if lines++; lines == 256 {
					close(read)
				}
			}
		}
		r := gspyResult{exitCode: -1}
		if err := cmd.Wait(); err == nil {
			r.exitCode = 0
		} else if ee, ok := err.(*exec.ExitError); ok {
			r.exitCode = ee.ExitCode()
		}
		r.stdout, r.stderr = so.String(), se.String()
		res <- r
	}()
	return read, res
}

// waitRingRead waits until gcBooksInBackground's first read is printed.
func waitRingRead(t *testing.T, ringRead <-chan struct{}, done <-chan gspyResult) {
	t.Helper()
	select {
	case <-ringRead:
	case r := <-done:
		t.Fatalf("gspy gc --books ended (exit %d) before listing the ring's 256 pauses; stderr:\n%s\nstdout:\n%s", r.exitCode, r.stderr, r.stdout)
	case <-time.After(30 * time.Second):
		t.Fatalf("gspy gc --books listed no ring of 256 pauses within 30 s")
	}
}

// gcBooksLine is one pause line of `gspy gc --books`.
var gcBooksLine = regexp.MustCompile(`pid=(\d+)  cycle=(\d+)  pause_ns=(\d+)`)

type ringPause struct{ cycle, pauseNs uint64 }

func parseGcBooks(t *testing.T, out string) (pauses []ringPause, lost uint64) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if m := gcBooksLine.FindStringSubmatch(l); m != nil {
			c, _ := strconv.ParseUint(m[2], 10, 64)
			ns, _ := strconv.ParseUint(m[3], 10, 64)
			pauses = append(pauses, ringPause{c, ns})
		}
		if strings.HasPrefix(l, "(") && strings.Contains(l, "left the 256-entry ring") {
			n, _ := strconv.ParseUint(strings.Fields(l[1:])[0], 10, 64)
			lost += n
		}
	}
	return pauses, lost
}

// TestBooksGcPauseRing: `gspy gc --books` lists every GC cycle's pause from
// the target's pause ring: the ring's contents, then cycles as they end, in
// order and without gaps, each equal to debug.ReadGCStats; cycles that left
// the 256-entry ring between two reads are counted as lost, exactly.
func TestBooksGcPauseRing(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkloadCgo(t, "books", "", "", true)
	p := startBooksWorkload(t, bin, "-usr2-gcs=20")
	pid := strconv.Itoa(p.pid)

	// Watch while 20 more cycles run: every cycle listed once, in order.
	ringRead, done := gcBooksInBackground(t, hh, "--pid="+pid, "--duration=4s", "--interval=20ms")
	waitRingRead(t, ringRead, done)
	p.cmd.Process.Signal(syscall.SIGUSR2)
	if l := p.next(t, 30*time.Second); !strings.Contains(string(l), "gcs-done") {
		t.Fatalf("expected gcs-done, got %s", l)
	}
	r := <-done
	if r.exitCode != 0 {
		t.Fatalf("gspy gc --books: %s", r.stderr)
	}
	pauses, lost := parseGcBooks(t, r.stdout)
	round := p.sandwich(t, func() {})
	if lost != 0 {
		t.Errorf("%d pauses lost at a 20 ms interval", lost)
	}
	if len(pauses) != 256+20 {
		t.Fatalf("%d pauses listed, want the ring's 256 and 20 new ones:\n%s", len(pauses), r.stdout)
	}
	for i := 1; i < len(pauses); i++ {
		if pauses[i].cycle != pauses[i-1].cycle+1 {
			t.Fatalf("cycle %d follows %d", pauses[i].cycle, pauses[i-1].cycle)
		}
	}
	if last := pauses[len(pauses)-1].cycle; last != uint64(round.NumGC) {
		t.Fatalf("last cycle listed %d, the process has done %d", last, round.NumGC)
	}
	for i, ns := range round.PausesNs { // newest first
		if got := pauses[len(pauses)-1-i]; got.pauseNs != uint64(ns) {
			t.Fatalf("cycle %d: gspy %d ns, ReadGCStats %d ns", got.cycle, got.pauseNs, ns)
		}
	}

	// 300 cycles between two reads: 256 listed, 44 counted as lost.
	p2 := startBooksWorkload(t, bin, "-usr2-gcs=300")
	ringRead, done = gcBooksInBackground(t, hh, "--pid="+strconv.Itoa(p2.pid), "--duration=6s", "--interval=6s")
	waitRingRead(t, ringRead, done)
	p2.cmd.Process.Signal(syscall.SIGUSR2)
	if l := p2.next(t, 30*time.Second); !strings.Contains(string(l), "gcs-done") {
		t.Fatalf("expected gcs-done, got %s", l)
	}
	r = <-done
	if r.exitCode != 0 {
		t.Fatalf("gspy gc --books: %s", r.stderr)
	}
	pauses, lost = parseGcBooks(t, r.stdout)
	if lost != 44 || len(pauses) != 256+256 {
		t.Errorf("gspy gc --books listed %d pauses and %d lost; want 512 (the ring twice) and 44:\n%s", len(pauses), lost, r.stdout)
	}
}
