package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRenderedOutputs checks the .folded (with --group-by), .svg, .html and
// .pprof outputs.
func TestRenderedOutputs(t *testing.T) {
	hh := env(t)
	bin := hh.cpuwork(t, variants[0])
	dir := t.TempDir()
	// The five pulls below take 13 s of its time and their start-ups and
	// checks the rest: with 17 s a busy 2-vCPU machine left under 2 s
	// spare before the last pull, which fails if the workload is gone.
	w := startWorkload(t, bin, "-mode=split", "-duration=25s")

	t.Run("folded", func(t *testing.T) {
		out := filepath.Join(dir, "cpu.folded")
		t0, _ := cpuTicks(w.pid)
		r := hh.gspy(t, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w.pid),
			"--duration=3s", "--group-by=handler", "-o", out)
		t1, _ := cpuTicks(w.pid)
		if r.exitCode != 0 {
			t.Fatalf("gspy profile exited %d; stderr:\n%s", r.exitCode, r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		groups := map[string]int64{}
		byFn := map[string]map[string]int64{} // workload function -> group -> count
		lines := 0
		for _, line := range strings.Split(string(b), "\n") {
			if line == "" {
				continue
			}
			lines++
			i := strings.LastIndexByte(line, ' ')
			if i <= 0 {
				t.Fatalf("folded line %q is not \"stack count\"", line)
			}
			n, err := strconv.ParseInt(line[i+1:], 10, 64)
			if err != nil || n <= 0 {
				t.Fatalf("folded line %q: count %q is not a positive integer", line, line[i+1:])
			}
			stack := strings.Split(line[:i], ";")
			if len(stack) < 2 || !strings.HasPrefix(stack[0], "handler=") {
				t.Fatalf("folded line %q: with --group-by=handler the first element must be handler=VALUE and a stack must follow", line)
			}
			g := strings.TrimPrefix(stack[0], "handler=")
			groups[g] += n
			sum += n
			last := stack[len(stack)-1]
			for fn := range handlerOf {
				if last == fn || strings.HasPrefix(last, fn+" ") {
					if byFn[fn] == nil {
						byFn[fn] = map[string]int64{}
					}
					byFn[fn][g] += n
				}
			}
		}
		t.Logf("folded: %d lines, %d samples; per handler group %v; per leaf function %v", lines, sum, groups, byFn)
		for g := range groups {
			if g != "alpha" && g != "beta" && g != "<none>" {
				t.Errorf("unexpected group handler=%s", g)
			}
		}
		if groups["alpha"] == 0 || groups["beta"] == 0 {
			t.Errorf("folded output lacks handler=alpha or handler=beta stacks: %v", groups)
		}
		for fn, gs := range byFn {
			for g, n := range gs {
				if g != handlerOf[fn] {
					t.Errorf("%d samples of %s are grouped under handler=%s, want handler=%s", n, fn, g, handlerOf[fn])
				}
			}
		}
		if byFn["main.spinAlpha"] == nil {
			t.Errorf("no folded stack ends in main.spinAlpha")
		}
		// The counts must add up to the number of samples taken: cpuwork's CPU
		// time over the pull times 99 Hz (the pull's wall time includes
		// start-up, so the estimate is an upper bound).
		expect := float64(t1-t0) / 100 * 99
		t.Logf("cpuwork used %.2f CPU-s during the pull -> at most ~%.0f samples at 99 Hz", float64(t1-t0)/100, expect)
		if expect > 50 && (float64(sum) < 0.5*expect || float64(sum) > 1.15*expect) {
			hint := ""
			if ns := float64(sum) / (1e9 / 99); ns >= 0.5*expect && ns <= 1.15*expect {
				hint = fmt.Sprintf(" (the counts look like cpu nanoseconds: %d ns = %.0f samples of %.2f ms; folded counts must be sample counts)", sum, ns, 1e3/99)
			}
			t.Errorf("folded counts sum to %d, expected about %.0f samples (0.5x..1.15x) from cpuwork's CPU time%s", sum, expect, hint)
		}
	})

	t.Run("svg", func(t *testing.T) {
		out := filepath.Join(dir, "cpu.svg")
		r := hh.gspy(t, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w.pid), "--duration=3s", "-o", out)
		if r.exitCode != 0 {
			t.Fatalf("gspy profile exited %d; stderr:\n%s", r.exitCode, r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("svg: %d bytes", len(b))
		if !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s does not contain <svg", out)
		}
		for _, fn := range []string{"main.spinAlpha", "main.spinBeta", "main.spinGamma"} {
			if !bytes.Contains(b, []byte(fn)) {
				t.Errorf("svg does not mention %s", fn)
			}
		}
	})

	// The interactive page (tests/e2e/flame_html_test.go drives one in a
	// browser): the functions and the label are in its data; stderr, a pipe
	// here, gets no progress line.
	t.Run("html", func(t *testing.T) {
		out := filepath.Join(dir, "cpu.html")
		r := hh.gspy(t, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w.pid), "--duration=2s", "--group-by=handler", "-o", out)
		if r.exitCode != 0 {
			t.Fatalf("gspy profile exited %d; stderr:\n%s", r.exitCode, r.stderr)
		}
		if strings.Contains(r.stderr, "\r") || strings.Contains(r.stderr, " left") {
			t.Errorf("progress on a stderr that is not a terminal:\n%q", r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`<!DOCTYPE html>`, `"groupBy":"handler"`, `"handler=alpha"`, `"main.spinAlpha"`, `"main.spinBeta"`, "d3-flame-graph 5.0.0 (Apache-2.0)"} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("%s lacks %s", out, want)
			}
		}
	})

	// On a terminal (a pseudo-terminal from util-linux's script), the
	// progress line counts gspyd's samples so far (PullProfile's progress
	// messages): rising, and never more than the profile ends with.
	t.Run("progress-on-a-terminal", func(t *testing.T) {
		out := filepath.Join(dir, "cpu-tty.pb.gz")
		cmdline := fmt.Sprintf("%s --server=%s profile cpu --pid=%d --duration=3s -o %s",
			hh.gspyBin, hh.addr, w.pid, out)
		cmd := exec.Command("script", "-qfec", cmdline, "/dev/null")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gspy on a terminal: %v\n%q", err, b)
		}
		tty := string(b)
		var counts []int64
		for _, m := range regexp.MustCompile(`s left, (\d+) samples?`).FindAllStringSubmatch(tty, -1) {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			counts = append(counts, n)
		}
		wrote := regexp.MustCompile(`gspy: wrote \S+ \((\d+) samples`).FindStringSubmatch(tty)
		if wrote == nil {
			t.Fatalf("no 'wrote ... samples' line on the terminal:\n%q", tty)
		}
		final, _ := strconv.ParseInt(wrote[1], 10, 64)
		t.Logf("progress counts %v, final %d", counts, final)
		if len(counts) < 2 {
			t.Fatalf("want at least two progress lines with samples in a 3 s pull:\n%q", tty)
		}
		for i := 1; i < len(counts); i++ {
			if counts[i] < counts[i-1] {
				t.Errorf("samples so far fell: %v", counts)
			}
		}
		if counts[len(counts)-1] == 0 || counts[len(counts)-1] > final {
			t.Errorf("last progress count %d: want > 0 and <= the profile's %d", counts[len(counts)-1], final)
		}
		if p := readProfile(t, out); int64(len(p.Sample)) == 0 {
			t.Errorf("%s has no samples", out)
		}
	})

	t.Run("pprof-extension", func(t *testing.T) {
		out := filepath.Join(dir, "cpu.pprof")
		r := hh.gspy(t, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w.pid), "--duration=2s", "-o", out)
		if r.exitCode != 0 {
			t.Fatalf("gspy profile exited %d; stderr:\n%s", r.exitCode, r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s is not gzip-compressed", out)
		}
		p := readProfile(t, out)
		checkCPUConventions(t, p)
		checkPprofRaw(t, out)
		if len(p.Sample) == 0 {
			t.Errorf("%s has no samples", out)
		}
	})
	w.waitDone(t, 30*time.Second)
}

var errLineRE = regexp.MustCompile(`(?m)^gspy: ([A-Z_]+): (.*)$`)

// expectRPCError checks gspy failed with exit 1 and "gspy: CODE: message".
func expectRPCError(t *testing.T, r gspyResult, code string) string {
	t.Helper()
	if r.exitCode != 1 {
		t.Errorf("gspy exited %d, want 1 with %s", r.exitCode, code)
	}
	m := errLineRE.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Errorf("stderr has no \"gspy: %s: ...\" line:\n%s", code, r.stderr)
		return ""
	}
	if m[1] != code {
		t.Errorf("gspy reported %s (%q), want %s", m[1], m[2], code)
	}
	if strings.TrimSpace(m[2]) == "" {
		t.Errorf("gspy's %s error has an empty message", m[1])
	}
	return m[2]
}

func unusedPid(t *testing.T) int {
	t.Helper()
	max := 4194304
	if b, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			max = n
		}
	}
	for pid := max - 1; pid > 1000; pid-- {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			return pid
		}
	}
	t.Fatal("no unused pid found")
	return 0
}

func TestErrors(t *testing.T) {
	hh := env(t)
	t.Run("unknown-pid", func(t *testing.T) {
		pid := unusedPid(t)
		r := hh.gspy(t, 30*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", pid), "--duration=2s",
			"-o", filepath.Join(t.TempDir(), "x.pb.gz"))
		expectRPCError(t, r, "NOT_FOUND")
	})
	t.Run("not-go", func(t *testing.T) {
		sleep := exec.Command("sleep", "100")
		if err := sleep.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { sleep.Process.Kill(); sleep.Wait() }()
		r := hh.gspy(t, 30*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", sleep.Process.Pid), "--duration=2s",
			"-o", filepath.Join(t.TempDir(), "x.pb.gz"))
		msg := expectRPCError(t, r, "FAILED_PRECONDITION")
		t.Logf("message for sleep: %q", msg)
	})
	// The test binary itself is a Go process, so only the duration is wrong.
	for _, d := range []string{"0s", "-1s", "100000s"} {
		t.Run("duration="+d, func(t *testing.T) {
			r := hh.gspy(t, 30*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", os.Getpid()), "--duration="+d,
				"-o", filepath.Join(t.TempDir(), "x.pb.gz"))
			expectRPCError(t, r, "INVALID_ARGUMENT")
			if r.elapsed > 10*time.Second {
				t.Errorf("rejecting --duration=%s took %v", d, r.elapsed)
			}
		})
	}
}

// TestTargetExitsMidProfile: a target that exits during the pull yields the
// samples taken so far, and the daemon keeps serving.
func TestTargetExitsMidProfile(t *testing.T) {
	hh := env(t)
	bin := hh.cpuwork(t, variants[0])
	dir := t.TempDir()
	w := startWorkload(t, bin, "-mode=split", "-duration=3s")
	out := filepath.Join(dir, "exit.pb.gz")
	r := hh.gspy(t, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w.pid), "--duration=8s", "--goroutine-ids", "-o", out)
	w.waitDone(t, 30*time.Second)
	if r.exitCode != 0 {
		t.Fatalf("gspy profile of a target that exits after 3s: exit %d (want 0 with the samples so far); stderr:\n%s", r.exitCode, r.stderr)
	}
	p := readProfile(t, out)
	checkPprofRaw(t, out)
	t.Logf("profile of the exiting target: %d samples", sampleCount(p))
	if len(p.Sample) == 0 {
		t.Errorf("profile of a target that ran ~3s of the 8s window has no samples")
	}

	// The daemon must still serve a new request, on another process.
	w2 := startWorkload(t, bin, "-mode=split", "-duration=6s")
	out2 := filepath.Join(dir, "after.pb.gz")
	r2 := hh.gspy(t, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w2.pid), "--duration=2s", "-o", out2)
	w2.waitDone(t, 30*time.Second)
	if r2.exitCode != 0 {
		t.Fatalf("profile after a target exited: exit %d; stderr:\n%s", r2.exitCode, r2.stderr)
	}
	p2 := readProfile(t, out2)
	checkPprofRaw(t, out2)
	if len(p2.Sample) == 0 {
		t.Errorf("profile after a target exited has no samples")
	}
}

// TestCLIUsageErrors: a flag the command does not take, or a misspelt one,
// is refused with exit code 2 before anything runs, with the closest known
// flag as a suggestion; global flags go with every command.
func TestCLIUsageErrors(t *testing.T) {
	hh := env(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"targets", "--bogus=1"}, "gspy: unknown flag --bogus\n"},
		{[]string{"profile", "cpu", "--durration=30s", "-o", "x.pb.gz"},
			"gspy: unknown flag --durration; did you mean --duration?\n"},
		{[]string{"targets", "--pid=1"}, "gspy: unknown flag --pid\n"},
		{[]string{"goroutines", "--pid=1", "--sytem"}, "gspy: unknown flag --sytem; did you mean --system?\n"},
		{[]string{"goroutines", "--pid=1", "--interval=1s"}, "gspy: goroutines: --interval needs --watch\n"},
		{[]string{"targets", "now"}, "gspy: targets: unexpected argument \"now\"\n"},
	} {
		r := hh.gspy(t, 30*time.Second, c.args...)
		if r.exitCode != 2 || r.stderr != c.want {
			t.Errorf("gspy %s: exit %d, stderr %q; want exit 2, stderr %q", strings.Join(c.args, " "), r.exitCode, r.stderr, c.want)
		}
		if r.elapsed > 5*time.Second {
			t.Errorf("gspy %s took %v to refuse its flags", strings.Join(c.args, " "), r.elapsed)
		}
	}
	// --server is global: before or after the command.
	if r := hh.gspyAt(t, "127.0.0.1:1", 30*time.Second, "targets", "--server="+hh.addr); r.exitCode != 0 {
		t.Errorf("gspy targets --server=ADDR: exit %d", r.exitCode)
	}
}

// TestCLIVersion: `gspy --version` and `gspy version` print gspy's version
// (the CMake project version) and API, then gspyd's; with no daemon at
// --server they still print gspy's and say the daemon was not reached.
func TestCLIVersion(t *testing.T) {
	hh := env(t)
	b, err := os.ReadFile("../../CMakeLists.txt")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^project\(gspy VERSION ([0-9.]+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("CMakeLists.txt has no project(gspy VERSION ...)")
	}
	version := string(m[1])
	want := fmt.Sprintf("gspy %s (api gspy.v1)\ngspyd %s (api gspy.v1) at %s\n", version, version, hh.addr)
	for _, args := range [][]string{{"--version"}, {"version"}, {"targets", "--version"}} {
		r := hh.gspy(t, 30*time.Second, args...)
		if r.exitCode != 0 || r.stdout != want {
			t.Errorf("gspy %s: exit %d, stdout %q; want 0 and %q", strings.Join(args, " "), r.exitCode, r.stdout, want)
		}
	}
	r := hh.gspyAt(t, "127.0.0.1:1", 30*time.Second, "--version")
	wantCli := fmt.Sprintf("gspy %s (api gspy.v1)\n", version)
	if r.exitCode != 0 || !strings.HasPrefix(r.stdout, wantCli) ||
		!strings.Contains(r.stdout, "gspyd at 127.0.0.1:1: could not be reached (UNAVAILABLE: ") {
		t.Errorf("gspy --version with no daemon: exit %d, stdout %q; want 0, %q and a line saying gspyd could not be reached", r.exitCode, r.stdout, wantCli)
	}
	out, err := exec.Command(hh.gspydBin, "--version").CombinedOutput()
	if err != nil || string(out) != "gspyd "+version+"\n" {
		t.Errorf("gspyd --version: %q, %v; want %q", out, err, "gspyd "+version+"\n")
	}
}
