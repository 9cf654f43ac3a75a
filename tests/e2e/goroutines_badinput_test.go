package e2e

import (
	"debug/elf"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Bad input for goroutine dumps, against real processes and real cores:
// each must end in a clear error or a result marked partial, never a crash
// (exit by signal) or a hang (every gspy run has a deadline, and a run
// that misses it fails the test).

// gcoreOf writes a core of the running pid with gdb's gcore and returns
// its path.
func gcoreOf(t *testing.T, pid int) string {
	t.Helper()
	gcore, err := exec.LookPath("gcore")
	if err != nil {
		t.Fatalf("gcore (Debian package gdb) is needed: %v", err)
	}
	prefix := filepath.Join(t.TempDir(), "core")
	if b, err := exec.Command(gcore, "-o", prefix, strconv.Itoa(pid)).CombinedOutput(); err != nil {
		t.Fatalf("gcore: %v\n%s", err, b)
	}
	return fmt.Sprintf("%s.%d", prefix, pid)
}

// checkNoCrash fails when gspy died of a signal (ExitCode -1) or exited
// with a status other than 0 (a dump) or 1 (an error).
func checkNoCrash(t *testing.T, r gspyResult) {
	t.Helper()
	if r.exitCode != 0 && r.exitCode != 1 {
		t.Errorf("gspy exited with %d (-1: killed by a signal), want 0 or 1; stderr:\n%s", r.exitCode, r.stderr)
	}
}

var gspyErrorLine = regexp.MustCompile(`(?m)^gspy: ([A-Z_]+): (.+)$`)

// TestGoroutineBadInputTargetExits: a process with ~100k goroutines exits on
// its own (its stdin closes) at a random moment while gspy dumps it, again
// and again. Every dump either succeeds or fails with NOT_FOUND saying the
// process is gone; none hangs; gspyd stays up, still lists targets, and
// holds as many fds as before.
func TestGoroutineBadInputTargetExits(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "goroutines", "", "")
	d := startOwnDaemon(t, hh)
	fdsBefore := fdCount(t, d.pid)
	gone := regexp.MustCompile(`exited during the goroutine dump|is gone|has exited|no such process|no Go process`)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	midRead, ok, before := 0, 0, 0
	for round := 0; round < 4; round++ {
		w := startGcwork(t, bin, "-scale=30", "-profile="+filepath.Join(t.TempDir(), "go.txt"))
		pid := fmt.Sprintf("--pid=%d", w.pid)
		exitAfter := time.Duration(rng.Intn(600)) * time.Millisecond
		go func() {
			time.Sleep(exitAfter)
			w.stdin.Close() // the workload exits when its stdin closes
		}()
		for i := 0; ; i++ {
			r := hh.gspyAt(t, d.addr, 60*time.Second, "goroutines", pid, "--format=pprof",
				"-o", filepath.Join(t.TempDir(), "g.pb.gz"))
			checkNoCrash(t, r)
			if r.exitCode == 0 {
				ok++
				if i > 200 {
					t.Fatalf("round %d: pid %d still dumps after %d tries", round, w.pid, i)
				}
				continue
			}
			m := gspyErrorLine.FindStringSubmatch(r.stderr)
			if m == nil || m[1] != "NOT_FOUND" || !strings.Contains(m[2], strconv.Itoa(w.pid)) || !gone.MatchString(m[2]) {
				t.Errorf("round %d: a dump of an exiting process failed without a NOT_FOUND naming pid %d and saying it is gone:\n%s", round, w.pid, r.stderr)
			}
			if strings.Contains(r.stderr, "during the goroutine dump") {
				midRead++
			} else {
				before++
			}
			break
		}
		w.cmd.Wait()
		w.waited = true
		t.Logf("round %d: exit after %v", round, exitAfter)
	}
	t.Logf("%d dumps succeeded; the process was gone in %d dumps before they began, exited in the middle of %d", ok, before, midRead)
	if !d.alive() {
		t.Fatal("gspyd exited")
	}
	r := hh.gspyAt(t, d.addr, 30*time.Second, "targets")
	if r.exitCode != 0 {
		t.Errorf("gspy targets failed after the dumps: %s", r.stderr)
	}
	// The dumps' fds (none of process_vm_readv's own) are closed; gRPC's
	// may take a moment.
	if fdsAfter := fdCountWhen(t, d.pid, func(n int) bool { return n <= fdsBefore }); fdsAfter > fdsBefore {
		t.Errorf("gspyd holds %d fds after the dumps, %d before", fdsAfter, fdsBefore)
	}
}

// TestGoroutineBadInputTruncatedCore: a gcore core cut short at several points,
// from the end to the header, each dumped with --core --exe: a dump marked
// partial (exit 0 and a warning that the core is truncated) or a clear
// error (exit 1, "gspy: CODE: message"), within the deadline.
func TestGoroutineBadInputTruncatedCore(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "goroutines", "", "")
	w := startGcwork(t, bin, "-profile="+filepath.Join(t.TempDir(), "go.txt"))
	core := gcoreOf(t, w.pid)
	defer os.Remove(core)
	st, err := os.Stat(core)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(core)
	if err != nil {
		t.Fatal(err)
	}
	// The largest PT_LOAD (the Go heap's arena, where the g's are), cut in
	// its middle; the memory ends at loadEnd (gdb puts section headers
	// after it, which a dump does not need); the header and program
	// headers end at phEnd.
	var big *elf.Prog
	loadEnd := int64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Filesz > 0 && (big == nil || p.Filesz > big.Filesz) {
			big = p
		}
		if p.Type == elf.PT_LOAD && int64(p.Off+p.Filesz) > loadEnd {
			loadEnd = int64(p.Off + p.Filesz)
		}
	}
	phEnd := int64(64 + 56*len(f.Progs))
	f.Close()
	if big == nil {
		t.Fatal("the core has no PT_LOAD with contents")
	}
	// From the longest to the shortest, cutting the same file.
	cuts := []struct {
		name    string
		size    int64
		mustErr bool
	}{
		{"one byte short of the memory's end", loadEnd - 1, false},
		{"in the middle of the largest PT_LOAD", int64(big.Off + big.Filesz/2), false},
		{"half", st.Size() / 2, false},
		{"program headers only", phEnd, true},
		{"half the program headers", 64 + 56*int64(len(f.Progs)/2), true},
		{"ELF header only", 64, true},
		{"10 bytes", 10, true},
	}
	last := st.Size()
	partial := 0
	for _, c := range cuts {
		if c.size >= last {
			continue // cuts may coincide in a small core
		}
		last = c.size
		if err := os.Truncate(core, c.size); err != nil {
			t.Fatal(err)
		}
		r := hh.gspy(t, 60*time.Second, "goroutines", "--core="+core, "--exe="+bin)
		checkNoCrash(t, r)
		switch r.exitCode {
		case 0:
			partial++
			// Every cut here is inside the memory: the dump must say so.
			if !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "truncated") {
				t.Errorf("%s (%d bytes): a dump without a warning that the core is truncated:\n%s", c.name, c.size, r.stderr)
			}
			if c.mustErr {
				t.Errorf("%s (%d bytes): a dump, want an error", c.name, c.size)
			}
		case 1:
			m := gspyErrorLine.FindStringSubmatch(r.stderr)
			if m == nil {
				t.Errorf("%s (%d bytes): exit 1 without a \"gspy: CODE: message\" line:\n%s", c.name, c.size, r.stderr)
			} else if c.mustErr && m[1] != "INVALID_ARGUMENT" {
				t.Errorf("%s (%d bytes): %s, want INVALID_ARGUMENT (not a whole core)", c.name, c.size, m[1])
			}
		}
	}
	t.Logf("%d truncated cores gave a partial dump, the others an error", partial)
}

// TestGoroutineBadInputCoreFromAnotherBinary: the core of the goroutines
// workload with --exe of another program, and of the same program built
// by another Go version: FAILED_PRECONDITION saying that the core was not
// produced by that executable (not "runtime.allgs not found"), and the
// right executable still dumps it.
func TestGoroutineBadInputCoreFromAnotherBinary(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "goroutines", "", "")
	w := startGcwork(t, bin, "-profile="+filepath.Join(t.TempDir(), "go.txt"))
	core := gcoreOf(t, w.pid)
	defer os.Remove(core)
	others := map[string]string{
		"another program":    hh.buildWorkload(t, "stress", "", ""),
		"another Go version": hh.buildWorkload(t, "goroutines", "go1.21.13", ""),
	}
	for what, exe := range others {
		// Same base name as the core's executable, so the check, not the
		// lookup of the executable's mapping by name, has to tell.
		renamed := filepath.Join(t.TempDir(), filepath.Base(bin))
		copyFile(t, exe, renamed)
		r := hh.gspy(t, 60*time.Second, "goroutines", "--core="+core, "--exe="+renamed)
		checkNoCrash(t, r)
		msg := expectRPCError(t, r, "FAILED_PRECONDITION")
		want := fmt.Sprintf("%s was not produced by %s: ", core, renamed)
		if !strings.Contains(msg, want) {
			t.Errorf("%s: the error does not say %q: %s", what, want, msg)
		}
		if !strings.Contains(msg, "build id") && !strings.Contains(msg, "firstmoduledata") {
			t.Errorf("%s: the error does not say what differs: %s", what, msg)
		}
		t.Logf("%s: %s", what, msg)
	}
	r := hh.gspy(t, 60*time.Second, "goroutines", "--core="+core, "--exe="+bin)
	if r.exitCode != 0 {
		t.Fatalf("the core with its own executable: %s", r.stderr)
	}
	if n := len(goroutineHeader.FindAllString(r.stdout, -1)); n < 3000 {
		t.Errorf("the core dump with its own executable has %d goroutines", n)
	}
}
