package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// The blow-ups of issue 12, each against a gspyd of its own with the
// default limits: gspyd stays alive, its peak RSS (VmHWM) grows by less
// than 128 MiB over its RSS before, the CLI answers within seconds
// meanwhile, and what is beyond a limit is refused with its code. Figures
// are logged ("resilience: ...") for the README: the same test run against
// an older gspyd (GSPYD_BIN) gives the "before".
const maxRSSGrowthKiB = 128 << 10

type rssWatch struct {
	t        *testing.T
	pid      int
	baseline int64 // VmRSS, KiB
}

// watchRSS resets gspyd's VmHWM to its RSS now (clear_refs 5), so that
// the start-up's peak (loading the BPF programs) does not count. Before, a
// CPU pull of `pid` and a `gspy targets` warm gspyd's caches (the binaries
// read, symbols): what is measured is what the blow-up adds.
func watchRSS(t *testing.T, hh *harness, d *ownDaemon, pid int) *rssWatch {
	t.Helper()
	if err := getProfile(dialGspyd(t, d.addr, nil), time.Minute, profileRequest([]int{pid}, time.Second, "")); err != nil {
		t.Fatalf("warm-up pull of pid %d: %v", pid, err)
	}
	hh.gspyAt(t, d.addr, time.Minute, "targets")
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", d.pid), []byte("5"), 0); err != nil {
		t.Fatalf("resetting gspyd's peak RSS: %v", err)
	}
	return &rssWatch{t, d.pid, procStatus(t, d.pid, "VmRSS")}
}

// check logs and checks the growth of the peak since the baseline.
func (w *rssWatch) check(what string) {
	w.t.Helper()
	peak := procStatus(w.t, w.pid, "VmHWM")
	growth := peak - w.baseline
	w.t.Logf("resilience: %s: gspyd RSS before %d MiB, peak %d MiB (growth %d MiB)", what, w.baseline>>10, peak>>10, growth>>10)
	if growth > maxRSSGrowthKiB {
		w.t.Errorf("%s: gspyd's peak RSS grew by %d MiB, more than 128 MiB", what, growth>>10)
	}
}

// cliAnswers: `gspy version` gets gspyd's answer within 5 s. (Not
// `targets`: its time is that of reading every new Go binary on the host,
// whatever gspyd's load.)
func cliAnswers(t *testing.T, hh *harness, d *ownDaemon, what string) {
	t.Helper()
	r := hh.gspyAt(t, d.addr, time.Minute, "version")
	answered := strings.Contains(r.stdout, "\ngspyd ")
	t.Logf("resilience: %s: gspy version answered in %.2fs (gspyd answered: %v)", what, r.elapsed.Seconds(), answered)
	if r.exitCode != 0 || !answered || r.elapsed > 5*time.Second {
		t.Errorf("%s: gspy version: exit %d after %v, stdout %q", what, r.exitCode, r.elapsed, r.stdout)
	}
}

// TestResilienceConcurrentPulls: 2000 CPU pulls at once, over 20
// connections of Go's gRPC client.
func TestResilienceConcurrentPulls(t *testing.T) {
	hh := env(t)
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0")
	self := os.Getpid()
	rss := watchRSS(t, hh, d, self)
	threadsBefore := procStatus(t, d.pid, "Threads")
	conns := make([]*grpc.ClientConn, 20)
	for i := range conns {
		conns[i] = dialGspyd(t, d.addr, nil)
	}
	var maxThreads atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.pid)); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					var n int64
					if _, err := fmt.Sscanf(l, "Threads: %d", &n); err == nil && n > maxThreads.Load() {
						maxThreads.Store(n)
					}
				}
			}
		}
	}()
	var mu sync.Mutex
	byCode := map[codes.Code]int{}
	messages := map[string]int{}
	var wg sync.WaitGroup
	req := profileRequest([]int{self}, 5*time.Second, "")
	start := time.Now()
	for i := 0; i < 2000; i++ {
		wg.Add(1)
		go func(conn *grpc.ClientConn) {
			defer wg.Done()
			err := getProfile(conn, 2*time.Minute, req)
			mu.Lock()
			byCode[codeOf(err)]++
			if err != nil {
				msg := err.Error()
				if i := strings.Index(msg, " ("); i > 0 {
					msg = msg[:i]
				}
				messages[msg]++
			}
			mu.Unlock()
		}(conns[i%len(conns)])
	}
	time.Sleep(time.Second)
	cliAnswers(t, hh, d, "2000 concurrent pulls")
	wg.Wait()
	close(stop)
	<-sampled
	t.Logf("resilience: 2000 concurrent pulls: codes %v in %.1fs; threads %d before, peak %d", byCode, time.Since(start).Seconds(), threadsBefore, maxThreads.Load())
	for m, n := range messages {
		t.Logf("  %d x %s", n, m)
	}
	if !d.alive() {
		t.Fatal("gspyd died")
	}
	rss.check("2000 concurrent pulls")
	if byCode[codes.OK] == 0 || byCode[codes.OK] > 64 {
		t.Errorf("%d pulls served, want 1..64 (--max-concurrent-pulls)", byCode[codes.OK])
	}
	if byCode[codes.OK]+byCode[codes.ResourceExhausted] != 2000 {
		t.Errorf("codes %v: every pull should be served or RESOURCE_EXHAUSTED", byCode)
	}
	if maxThreads.Load() > threadsBefore+64+16+8 {
		t.Errorf("gspyd peaked at %d threads (%d before): more than the pulls admitted and gRPC's quota", maxThreads.Load(), threadsBefore)
	}
	if got := refusedCounts(t, d); got["concurrent_pulls"]+got["client_concurrent_pulls"] == 0 {
		t.Errorf("no refusal counted: %v", got)
	}
}

// TestResilienceHugeFilter: a filter of 10000 RE2 terms from the CLI.
func TestResilienceHugeFilter(t *testing.T) {
	hh := env(t)
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0")
	rss := watchRSS(t, hh, d, os.Getpid())
	r := hh.gspyAt(t, d.addr, time.Minute, "profile", "cpu", fmt.Sprintf("--pid=%d", os.Getpid()), "--duration=1s",
		"--filter="+regexTerms(10000), "-o", filepath.Join(t.TempDir(), "x.pb.gz"))
	t.Logf("resilience: 10000-term filter: answered in %.2fs", r.elapsed.Seconds())
	msg := expectRPCError(t, r, "RESOURCE_EXHAUSTED")
	if !strings.Contains(msg, "--max-filter-terms") {
		t.Errorf("the refusal does not name --max-filter-terms: %q", msg)
	}
	if r.elapsed > 10*time.Second {
		t.Errorf("the refusal took %v", r.elapsed)
	}
	if !d.alive() {
		t.Fatal("gspyd died")
	}
	rss.check("10000-term filter")
	cliAnswers(t, hh, d, "10000-term filter")
}

// TestResilienceDuplicatePids: one pid 100000 times in one request.
func TestResilienceDuplicatePids(t *testing.T) {
	hh := env(t)
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0")
	rss := watchRSS(t, hh, d, os.Getpid())
	dup := make([]int, 100000)
	for i := range dup {
		dup[i] = os.Getpid()
	}
	conn := dialGspyd(t, d.addr, nil)
	start := time.Now()
	err := getProfile(conn, time.Minute, profileRequest(dup, 2*time.Second, ""))
	t.Logf("resilience: 100000 duplicate pids: %v after %.2fs", err, time.Since(start).Seconds())
	if err != nil {
		t.Errorf("100000 repeats of one pid: %v (want a profile of that one pid)", err)
	}
	if time.Since(start) > 15*time.Second {
		t.Errorf("a 2s pull of 100000 repeats of one pid took %v", time.Since(start))
	}
	if !d.alive() {
		t.Fatal("gspyd died")
	}
	rss.check("100000 duplicate pids")
	cliAnswers(t, hh, d, "100000 duplicate pids")
}

// TestResilienceSharedLabelDump: 300 goroutines sharing one label set of
// 64 x 4000 bytes, dumped by the CLI (shared label sets) and by a client
// that does not ask for them (labels in each goroutine).
func TestResilienceSharedLabelDump(t *testing.T) {
	hh := env(t)
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0")
	bin := hh.buildWorkload(t, "goroutines", "", "")
	w := startGcwork(t, bin, "-profile="+filepath.Join(t.TempDir(), "go.txt"), "-shared-labels=300")
	defer fmt.Fprintln(w.stdin, "stop")
	rss := watchRSS(t, hh, d, w.pid)
	out := filepath.Join(t.TempDir(), "dump.txt")
	r := hh.gspyAt(t, d.addr, 2*time.Minute, "goroutines", fmt.Sprintf("--pid=%d", w.pid), "-o", out)
	t.Logf("resilience: shared label dump (gspy goroutines): exit %d in %.2fs", r.exitCode, r.elapsed.Seconds())
	if r.exitCode != 0 {
		t.Fatalf("gspy goroutines: exit %d", r.exitCode)
	}
	if r.elapsed > 20*time.Second {
		t.Errorf("gspy goroutines took %v", r.elapsed)
	}
	text, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Every goroutine still prints its labels (Go's debug=2 does).
	value := strings.Repeat("a", 4000)
	if n := strings.Count(string(text), `"key00": "`+value+`"`); n < 300 {
		t.Errorf("the dump prints the shared labels %d times, want 300 (one per goroutine)", n)
	}
	// The CLI writes the text as it makes it: it never holds the ~80 MB
	// (the label set printed 300 times), let alone twice.
	t.Logf("resilience: gspy goroutines peak RSS %d MiB for %d MiB of text", r.maxRSS>>20, len(text)>>20)
	if r.maxRSS <= 0 || r.maxRSS > int64(len(text))*3/4 {
		t.Errorf("gspy goroutines peaked at %d MiB for %d MiB of text: it held the text", r.maxRSS>>20, len(text)>>20)
	}
	rss.check("shared label dump, gspy goroutines")
	conn := dialGspyd(t, d.addr, nil)
	n, err := streamGoroutines(conn, goroutinesRequest(w.pid, false))
	t.Logf("resilience: shared label dump, labels in each goroutine: %d bytes, %v", n, err)
	if err != nil && codeOf(err) != codes.ResourceExhausted {
		t.Errorf("a dump with labels in each goroutine: %v, want OK or RESOURCE_EXHAUSTED", err)
	}
	if !d.alive() {
		t.Fatal("gspyd died")
	}
	rss.check("shared label dump, both clients")
	cliAnswers(t, hh, d, "shared label dump")
}
