package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// probeState is what a gspyd holds for its probes, read from outside: its
// open fds, those that are perf events (one per uprobe and per CPU sampling
// event) and BPF links, and the kernel's tracefs uprobe definitions naming a
// binary (libbpf's legacy attach path creates those).
type probeState struct {
	fds, perfEvents, bpfLinks int
	uprobeEvents              int
}

func (s probeState) String() string {
	return fmt.Sprintf("%d fds (%d perf_event, %d bpf_link), %d tracefs uprobe_events", s.fds, s.perfEvents, s.bpfLinks, s.uprobeEvents)
}

func readProbeState(t *testing.T, pid int, binary string) probeState {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading gspyd's fds: %v", err)
	}
	var s probeState
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		s.fds++
		switch link {
		case "anon_inode:[perf_event]":
			s.perfEvents++
		case "anon_inode:bpf_link":
			s.bpfLinks++
		}
	}
	if b, err := os.ReadFile("/sys/kernel/tracing/uprobe_events"); err == nil && binary != "" {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, binary) {
				s.uprobeEvents++
			}
		}
	}
	return s
}

// settledProbeState is gspyd's probe state once it holds still: two reads
// 200 ms apart agree (up to 15 s). Right after start-up the daemon may still
// hold a transient fd, which would make a later, quieter state look like a
// change.
func settledProbeState(t *testing.T, pid int, binary string) probeState {
	t.Helper()
	prev := readProbeState(t, pid, binary)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		cur := readProbeState(t, pid, binary)
		if cur == prev {
			return cur
		}
		prev = cur
	}
	return prev
}

// probeStateSettles waits up to 30 s for gspyd's probe state to be `want`
// again and returns the last state read: a gRPC connection of a call just
// answered may still be closing, and the kernel unregisters uprobes one at
// a time (about 0.1 s each on an idle 2-vCPU VM, longer when it is busy).
func probeStateSettles(t *testing.T, pid int, binary string, want probeState) probeState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := readProbeState(t, pid, binary)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// finishStress reads the stress workload's round lines up to its done line,
// waits for it to exit and checks it exited 0.
func finishStress(t *testing.T, w *gcworkProc, timeout time.Duration) (rounds []string, done map[string]any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ev := w.next(t, time.Until(deadline))
		switch ev["event"] {
		case "round":
			rounds = append(rounds, ev["checksum"].(string))
			continue
		case "done":
			done = ev
		default:
			t.Fatalf("stress: unexpected line %v", ev)
		}
		break
	}
	for range w.lines {
	}
	err := w.cmd.Wait()
	w.waited = true
	if err != nil {
		t.Fatalf("stress exited with %v (want exit 0); stderr:\n%s", err, w.stderr.String())
	}
	return rounds, done
}

// safetyCycles is how many times the safety test attaches and detaches
// probes: half GC watches, half block pulls.
func safetyCycles(t *testing.T) int {
	if s := os.Getenv("GSPY_SAFETY_CYCLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			t.Fatalf("GSPY_SAFETY_CYCLES=%q: want an integer >= 2", s)
		}
		return n
	}
	return 1000
}

var blockWroteRE = regexp.MustCompile(`gspy: wrote .* \(([0-9]+) waits`)

// TestSafetyAttachDetachUnderStress: a Go program that grows stacks deeply
// (morestack again and again), allocates hard and runs 10000 goroutines that
// park and wake computes the same result while gspy attaches and detaches
// its uprobes to it 1000 times (GSPY_SAFETY_CYCLES): GC watches and block
// pulls of 20 ms, each through the CLI, two loops at once. The program exits
// 0 with the checksum of the run without gspy in every round; gspyd is alive
// and holds exactly the fds, perf events and BPF links it held before.
func TestSafetyAttachDetachUnderStress(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "stress", "", "")

	start := time.Now()
	base := startGcwork(t, bin, "-rounds=2")
	baseRounds, baseDone := finishStress(t, base, 2*time.Minute)
	want := baseDone["checksum"].(string)
	if len(baseRounds) != 2 || baseRounds[0] != want || baseRounds[1] != want {
		t.Fatalf("without gspy the stress rounds disagree: %v (done %v)", baseRounds, baseDone)
	}
	t.Logf("without gspy: checksum %s, 2 rounds in %.1fs", want, time.Since(start).Seconds())

	d := startOwnDaemon(t, hh)
	before := settledProbeState(t, d.pid, bin)
	t.Logf("gspyd (pid %d) before: %s", d.pid, before)

	w := startGcwork(t, bin, "-rounds=0")
	pid := strconv.Itoa(w.pid)
	cycles := safetyCycles(t)
	var (
		gcDone, blockDone atomic.Int64
		gcTime, blockTime time.Duration // each loop's own time
		gcPauses, waits   atomic.Int64
		failures          atomic.Int64
		failMu            sync.Mutex
		firstFailure      string
	)
	fail := func(format string, args ...any) {
		failures.Add(1)
		failMu.Lock()
		defer failMu.Unlock()
		if firstFailure == "" {
			firstFailure = fmt.Sprintf(format, args...)
		}
	}
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(hh.gspyBin, append([]string{"--server=" + d.addr}, args...)...)
		var so, se strings.Builder
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		return so.String(), se.String(), err
	}
	out := filepath.Join(t.TempDir(), "block.pb.gz")
	var wg sync.WaitGroup
	loopStart := time.Now()
	wg.Add(2)
	go func() { // GC watches: each attaches and detaches the GC probes
		defer wg.Done()
		defer func(s time.Time) { gcTime = time.Since(s) }(time.Now())
		for i := 0; i < cycles/2 && failures.Load() == 0; i++ {
			so, se, err := run("gc", "--pid="+pid, "--duration=20ms")
			if err != nil || !watchingRE.MatchString(se) {
				fail("gc watch %d: %v; stderr:\n%s", i, err, se)
				return
			}
			if m := summaryLineRE.FindStringSubmatch(lastLine(so)); m != nil {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				gcPauses.Add(n)
			} else {
				fail("gc watch %d: no summary line; stdout:\n%s", i, so)
				return
			}
			gcDone.Add(1)
		}
	}()
	go func() { // block pulls: each attaches and detaches the block probes
		defer wg.Done()
		defer func(s time.Time) { blockTime = time.Since(s) }(time.Now())
		for i := 0; i < cycles-cycles/2 && failures.Load() == 0; i++ {
			_, se, err := run("profile", "block", "--exact", "--pid="+pid, "--duration=20ms", "-o", out)
			m := blockWroteRE.FindStringSubmatch(se)
			if err != nil || m == nil {
				fail("block pull %d: %v; stderr:\n%s", i, err, se)
				return
			}
			n, _ := strconv.ParseInt(m[1], 10, 64)
			waits.Add(n)
			blockDone.Add(1)
		}
	}()
	progressDone := make(chan struct{})
	go func() {
		for {
			select {
			case <-progressDone:
				return
			case <-time.After(30 * time.Second):
				t.Logf("after %.0fs: %d GC watches, %d block pulls", time.Since(loopStart).Seconds(), gcDone.Load(), blockDone.Load())
			}
		}
	}()
	wg.Wait()
	close(progressDone)
	elapsed := time.Since(loopStart)
	n := gcDone.Load() + blockDone.Load()
	t.Logf("%d attach/detach cycles (%d GC watches, %d block pulls of 20 ms) in %.1fs: %.0f ms per GC watch, %.0f ms per block pull (two loops at once); %d GC pauses and %d waits seen",
		n, gcDone.Load(), blockDone.Load(), elapsed.Seconds(),
		float64(gcTime.Milliseconds())/float64(max(gcDone.Load(), 1)),
		float64(blockTime.Milliseconds())/float64(max(blockDone.Load(), 1)),
		gcPauses.Load(), waits.Load())
	if failures.Load() > 0 {
		t.Errorf("%d attach cycles failed; the first: %s", failures.Load(), firstFailure)
	}
	if n != int64(cycles) {
		t.Errorf("%d of %d attach/detach cycles completed", n, cycles)
	}
	if gcPauses.Load() == 0 || waits.Load() == 0 {
		t.Errorf("the probes never fired (%d GC pauses, %d waits): were they attached?", gcPauses.Load(), waits.Load())
	}

	if _, err := fmt.Fprintln(w.stdin, "stop"); err != nil {
		t.Fatal(err)
	}
	rounds, done := finishStress(t, w, 2*time.Minute)
	t.Logf("with gspy: %d rounds, checksum %s, all rounds equal: %v", len(rounds), done["checksum"], done["all_equal"])
	if len(rounds) == 0 {
		t.Errorf("the stress workload finished no round")
	}
	for i, c := range rounds {
		if c != want {
			t.Errorf("round %d under gspy: checksum %s, without gspy %s", i, c, want)
		}
	}

	if !d.alive() {
		t.Fatalf("gspyd died during the attach cycles; output:\n%s", d.log.String())
	}
	time.Sleep(200 * time.Millisecond)
	after := probeStateSettles(t, d.pid, bin, before)
	t.Logf("gspyd after: %s", after)
	if after != before {
		t.Errorf("gspyd held %s before the attach cycles and %s after: probes leaked", before, after)
	}
	if r := hh.gspyAt(t, d.addr, 30*time.Second, "targets"); r.exitCode != 0 {
		t.Errorf("gspy targets after the attach cycles: exit %d", r.exitCode)
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
