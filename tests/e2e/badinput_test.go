package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// hasFunction reports whether any sample of p has a frame named fn (or,
// with a trailing '*', a frame starting with fn).
func hasFunction(p *profile.Profile, fn string) bool {
	prefix := strings.HasSuffix(fn, "*")
	fn = strings.TrimSuffix(fn, "*")
	for _, s := range p.Sample {
		for _, f := range frames(s) {
			if f == fn || (prefix && strings.HasPrefix(f, fn)) {
				return true
			}
		}
	}
	return false
}

// targetLine returns the `gspy targets` line of pid.
func targetLine(t *testing.T, hh *harness, addr string, pid int) string {
	t.Helper()
	r := hh.gspyAt(t, addr, 30*time.Second, "targets")
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, strconv.Itoa(pid)+"\t") {
			return line
		}
	}
	t.Fatalf("gspy targets does not list pid %d:\n%s", pid, r.stdout)
	return ""
}

// TestProbesReleasedWhenTargetExits: a GC watch, a block pull and a CPU pull
// of one process at once; the process exits on its own (exit 0) while all
// their probes are attached. All three end cleanly within seconds, say that
// it exited, keep what they saw, and gspyd is back to its fds, perf events
// and BPF links of before.
func TestProbesReleasedWhenTargetExits(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "stress", "", "")
	d := startOwnDaemon(t, hh)
	before := settledProbeState(t, d.pid, bin)
	w := startGcwork(t, bin, "-rounds=0", "-goroutines=1000")
	pid := fmt.Sprintf("--pid=%d", w.pid)
	dir := t.TempDir()
	gcRes := hh.pullInBackground(t, d.addr, "gc", pid, "--duration=60s")
	blockRes := hh.pullInBackground(t, d.addr, "profile", "block", "--exact", pid, "--duration=60s", "-o", filepath.Join(dir, "block.pb.gz"))
	cpuRes := hh.pullInBackground(t, d.addr, "profile", "cpu", pid, "--duration=60s", "-o", filepath.Join(dir, "cpu.pb.gz"))
	waitUntilProbed(t, hh, d.addr, w.pid, "gc")
	waitUntilProbed(t, hh, d.addr, w.pid, "block")
	time.Sleep(time.Second)
	during := readProbeState(t, d.pid, bin)
	t.Logf("gspyd before: %s; with the probes attached: %s", before, during)
	if during.perfEvents < before.perfEvents+8 || during.bpfLinks < before.bpfLinks+8 {
		t.Errorf("with GC and block probes attached gspyd holds %s, before %s: expected 8+ more uprobe perf events and links", during, before)
	}
	if _, err := fmt.Fprintln(w.stdin, "stop"); err != nil {
		t.Fatal(err)
	}
	rounds, done := finishStress(t, w, time.Minute)
	exited := time.Now()
	t.Logf("the target exited after %d rounds (all equal: %v)", len(rounds), done["all_equal"])
	results := map[string]gspyResult{}
	for _, c := range []struct {
		name, want string
		ch         chan gspyResult
	}{
		{"gc watch", fmt.Sprintf("pid %d exited", w.pid), gcRes},
		{"block pull", "every selected process exited", blockRes},
		{"cpu pull", "every selected process exited", cpuRes},
	} {
		r := <-c.ch
		results[c.name] = r
		if r.exitCode != 0 {
			t.Errorf("%s of a process that exited: exit %d (want 0); stderr:\n%s", c.name, r.exitCode, r.stderr)
		}
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: stderr does not say %q:\n%s", c.name, c.want, r.stderr)
		}
		t.Logf("%s ended %.1fs after the exit", c.name, time.Since(exited).Seconds())
	}
	if el := time.Since(exited); el > 15*time.Second {
		t.Errorf("the watch and pulls took %v to end after the target exited", el)
	}
	if _, s := parseGcOutput(t, results["gc watch"].stdout); s.gcPauses == 0 {
		t.Errorf("the GC watch saw no pause before the exit")
	}
	if p := readProfile(t, filepath.Join(dir, "block.pb.gz")); len(p.Sample) == 0 {
		t.Errorf("the block profile of the exited process is empty")
	}
	if p := readProfile(t, filepath.Join(dir, "cpu.pb.gz")); !hasFunction(p, "main.recurse") {
		t.Errorf("the CPU profile of the exited process has no main.recurse")
	}
	time.Sleep(200 * time.Millisecond)
	if after := probeStateSettles(t, d.pid, bin, before); after != before {
		t.Errorf("gspyd held %s before and %s after: the exited process's probes leaked", before, after)
	}
	if !d.alive() {
		t.Fatalf("gspyd died")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestBinaryReplacedOnDisk: a process keeps running the binary it started
// from after a deploy renames a different binary over that path. Decided
// behaviour: gspy profiles and probes each process with the binary it runs
// (/proc/PID/exe, the old, now deleted file), never with what the path holds
// now; a process started from the new file gets the new binary. Checked with
// a pull before the replacement (the daemon caches the old binary) and
// after, for CPU, GC and block probes.
func TestBinaryReplacedOnDisk(t *testing.T) {
	hh := env(t)
	stress := hh.buildWorkload(t, "stress", "", "")
	other := hh.buildWorkload(t, "blockwork", "", "")
	d := startOwnDaemon(t, hh)
	before := settledProbeState(t, d.pid, "")
	dir := t.TempDir()
	path := filepath.Join(dir, "app")
	copyFile(t, stress, path)
	// 1000 goroutines: rounds of well under a second, so each window below
	// spans whole rounds (a long recursion phase has no GC and no new park).
	a := startGcwork(t, path, "-rounds=0", "-goroutines=1000")
	pid := fmt.Sprintf("--pid=%d", a.pid)

	first := filepath.Join(dir, "before.pb.gz")
	if r := hh.gspyAt(t, d.addr, time.Minute, "profile", "cpu", pid, "--duration=1s", "-o", first); r.exitCode != 0 {
		t.Fatalf("cpu pull before the replacement: exit %d", r.exitCode)
	}
	// A deploy: the new binary is written next to the old one and renamed
	// over it; the running process keeps the old inode.
	copyFile(t, other, path+".new")
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	b := startGcwork(t, path) // blockwork now: it waits for a line on stdin
	lineA, lineB := targetLine(t, hh, d.addr, a.pid), targetLine(t, hh, d.addr, b.pid)
	t.Logf("targets after the replacement:\n  %s\n  %s", lineA, lineB)
	if !strings.Contains(lineA, "gspy.dev/tests/workloads/stress") {
		t.Errorf("pid %d runs the old binary (stress), gspy targets says: %s", a.pid, lineA)
	}
	if !strings.Contains(lineB, "gspy.dev/tests/workloads/blockwork") {
		t.Errorf("pid %d runs the new binary (blockwork), gspy targets says: %s", b.pid, lineB)
	}

	cpuOut := filepath.Join(dir, "cpu.pb.gz")
	blockOut := filepath.Join(dir, "block.pb.gz")
	gcRes := hh.pullInBackground(t, d.addr, "gc", pid, "--duration=3s")
	blockRes := hh.pullInBackground(t, d.addr, "profile", "block", "--exact", pid, "--duration=3s", "-o", blockOut)
	cpuRes := hh.gspyAt(t, d.addr, time.Minute, "profile", "cpu", pid, "--duration=3s", "-o", cpuOut)
	if cpuRes.exitCode != 0 {
		t.Fatalf("cpu pull after the replacement: exit %d; stderr:\n%s", cpuRes.exitCode, cpuRes.stderr)
	}
	p := readProfile(t, cpuOut)
	if !hasFunction(p, "main.recurse") {
		if b, err := exec.Command(hh.goBin, "tool", "pprof", "-top", cpuOut).CombinedOutput(); err == nil {
			t.Logf("the CPU profile:\n%s", b)
		}
		t.Errorf("the CPU profile after the replacement lacks stress's main.recurse: symbolized with the wrong binary?")
	}
	for _, fn := range []string{"main.chanReceive", "main.selectWait", "main.mutexLock"} {
		if hasFunction(p, fn) {
			t.Errorf("the CPU profile of pid %d (stress) has %s, a function of the binary now on disk", a.pid, fn)
		}
	}
	g := <-gcRes
	if g.exitCode != 0 {
		t.Fatalf("gc watch after the replacement: exit %d; stderr:\n%s", g.exitCode, g.stderr)
	}
	if _, s := parseGcOutput(t, g.stdout); s.gcPauses == 0 || s.gcCycles == 0 {
		t.Errorf("the GC watch of the running (replaced) binary saw no GC pauses (%d) or cycles (%d)", s.gcPauses, s.gcCycles)
	}
	br := <-blockRes
	if br.exitCode != 0 {
		t.Fatalf("block pull after the replacement: exit %d; stderr:\n%s", br.exitCode, br.stderr)
	}
	bp := readProfile(t, blockOut)
	if !hasFunction(bp, "main.worker") || !hasFunction(bp, "main.round.func*") {
		t.Errorf("the block profile after the replacement lacks stress's main.worker/main.round.func*")
	}
	// The process started from the new file is probed in its own binary.
	if r := hh.gspyAt(t, d.addr, time.Minute, "gc", fmt.Sprintf("--pid=%d", b.pid), "--duration=1s"); r.exitCode != 0 || !watchingRE.MatchString(r.stderr) {
		t.Errorf("gc watch of the process started from the new file: exit %d; stderr:\n%s", r.exitCode, r.stderr)
	}

	fmt.Fprintln(a.stdin, "stop")
	rounds, done := finishStress(t, a, time.Minute)
	if done["all_equal"] != true {
		t.Errorf("stress rounds disagree under gspy: %v", rounds)
	}
	time.Sleep(200 * time.Millisecond)
	if after := probeStateSettles(t, d.pid, "", before); after != before {
		t.Errorf("gspyd held %s before and %s after", before, after)
	}
}

// renameFunction renames a function in a (stripped) Go binary's pclntab by
// overwriting its NUL-terminated name with one of the same length: the
// program runs as before (the runtime never looks functions up by name), but
// to gspy its runtime lacks that function, as a Go release that renamed or
// removed it would.
func renameFunction(t *testing.T, data []byte, from, to string) []byte {
	t.Helper()
	if len(from) != len(to) {
		t.Fatalf("renameFunction: %q and %q differ in length", from, to)
	}
	old := []byte(from + "\x00")
	n := bytes.Count(data, old)
	if n == 0 {
		t.Fatalf("%s not found in the binary", from)
	}
	t.Logf("renamed %s to %s (%d occurrence(s))", from, to, n)
	return bytes.ReplaceAll(data, old, []byte(to+"\x00"))
}

// TestRuntimeLacksProbedFunction: a Go runtime without a function the GC or
// block probes need (simulated: the names renamed in a stripped binary's
// pclntab). Both are refused with FAILED_PRECONDITION naming the function
// and the Go version, the probes attached before the missing one was found
// are detached again (no fd, perf event or link left), the process is not
// disturbed, and CPU profiling of it still works.
func TestRuntimeLacksProbedFunction(t *testing.T) {
	hh := env(t)
	orig := hh.buildWorkload(t, "stress", "", "-s -w")
	data, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	// The GC probes attach in order stopTheWorldWithSema, startTheWorldWithSema
	// (entry and returns), gcStart, gcMarkTermination; the block probes
	// gopark, ready, execute: in both, earlier probes are attached when the
	// missing function is looked up.
	data = renameFunction(t, data, "runtime.gcMarkTermination", "runtime.gcMarkTerminatioX")
	data = renameFunction(t, data, "runtime.ready", "runtime.readX")
	bin := filepath.Join(t.TempDir(), "stress-renamed")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	d := startOwnDaemon(t, hh)
	before := settledProbeState(t, d.pid, bin)
	w := startGcwork(t, bin, "-rounds=0")
	pid := fmt.Sprintf("--pid=%d", w.pid)

	r := hh.gspyAt(t, d.addr, time.Minute, "gc", pid, "--duration=5s")
	msg := expectRPCError(t, r, "FAILED_PRECONDITION")
	if !strings.Contains(msg, "runtime.gcMarkTermination") || !strings.Contains(msg, w.version) {
		t.Errorf("the GC watch's error should name runtime.gcMarkTermination and %s: %q", w.version, msg)
	}
	r = hh.gspyAt(t, d.addr, time.Minute, "profile", "block", "--exact", pid, "--duration=5s", "-o", filepath.Join(t.TempDir(), "b.pb.gz"))
	msg = expectRPCError(t, r, "FAILED_PRECONDITION")
	if !strings.Contains(msg, "runtime.ready") || !strings.Contains(msg, w.version) {
		t.Errorf("the block pull's error should name runtime.ready and %s: %q", w.version, msg)
	}
	if line := targetLine(t, hh, d.addr, w.pid); strings.Contains(line, "\tgc") || strings.Contains(line, "block") {
		t.Errorf("gspy targets shows probes on the refused process: %s", line)
	}
	if after := probeStateSettles(t, d.pid, bin, before); after != before {
		t.Errorf("gspyd held %s before the refused requests and %s after: the probes attached before the missing function leaked", before, after)
	}
	cpuOut := filepath.Join(t.TempDir(), "cpu.pb.gz")
	if r := hh.gspyAt(t, d.addr, time.Minute, "profile", "cpu", pid, "--duration=1s", "-o", cpuOut); r.exitCode != 0 {
		t.Errorf("cpu pull of the process: exit %d; stderr:\n%s", r.exitCode, r.stderr)
	} else if !hasFunction(readProfile(t, cpuOut), "main.recurse") {
		t.Errorf("the CPU profile lacks main.recurse")
	}
	fmt.Fprintln(w.stdin, "stop")
	rounds, done := finishStress(t, w, time.Minute)
	if done["all_equal"] != true || len(rounds) == 0 {
		t.Errorf("the renamed binary's rounds: %v (all equal: %v)", rounds, done["all_equal"])
	}
	if !d.alive() {
		t.Fatalf("gspyd died")
	}
}
