package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// harness is shared by all tests: one gspyd, one directory of workload builds.
type harness struct {
	gspydBin, gspyBin string
	goBin             string
	cpuworkSrc        string // absolute path of tests/workloads/cpuwork
	buildDir          string // where cpuwork variants are built

	addr       string
	daemon     *exec.Cmd
	daemonDone chan struct{} // closed when gspyd exits
	daemonErr  error         // set before daemonDone is closed
	log        *tailBuffer

	buildMu sync.Mutex
	builds  map[string]string // variant name -> binary
}

var (
	setupOnce sync.Once
	setupErr  error
	h         *harness
)

func TestMain(m *testing.M) {
	code := m.Run()
	if h != nil {
		if err := h.stopDaemon(10 * time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
			code = 1
		}
		if code != 0 {
			fmt.Fprintf(os.Stderr, "--- gspyd output (tail) ---\n%s\n--- end gspyd output ---\n", h.log.String())
		}
		os.RemoveAll(h.buildDir)
	}
	os.Exit(code)
}

// env returns the shared harness, starting gspyd on first use. It fails the
// test (never skips) when the environment cannot run the e2e tests.
func env(t *testing.T) *harness {
	t.Helper()
	setupOnce.Do(func() { h, setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("e2e setup: %v", setupErr)
	}
	select {
	case <-h.daemonDone:
		t.Fatalf("gspyd is no longer running (%v); its output:\n%s", h.daemonErr, h.log.String())
	default:
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gspyd output (tail):\n%s", h.log.String())
		}
	})
	return h
}

func binFromEnv(name string) (string, error) {
	p := os.Getenv(name)
	if p == "" {
		return "", fmt.Errorf("%s is not set; set GSPYD_BIN and GSPY_BIN to the gspyd and gspy binaries (e.g. build/daemon/gspyd, build/cli/gspy)", name)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %v (build it first: cmake --build build --target gspyd gspy)", name, p, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s=%s is not an executable file", name, p)
	}
	return abs, nil
}

func setup() (*harness, error) {
	var err error
	hh := &harness{builds: map[string]string{}, log: newTailBuffer(64 << 10)}
	if hh.gspydBin, err = binFromEnv("GSPYD_BIN"); err != nil {
		return nil, err
	}
	if hh.gspyBin, err = binFromEnv("GSPY_BIN"); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("the e2e tests must run as root (gspyd loads BPF programs); euid is %d", os.Geteuid())
	}
	hh.goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(hh.goBin); err != nil {
		if hh.goBin, err = exec.LookPath("go"); err != nil {
			return nil, fmt.Errorf("cannot find the go command: %v", err)
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	hh.cpuworkSrc = filepath.Join(wd, "..", "workloads", "cpuwork")
	if _, err := os.Stat(filepath.Join(hh.cpuworkSrc, "go.mod")); err != nil {
		return nil, fmt.Errorf("cpuwork sources not found: %v", err)
	}
	if hh.buildDir, err = os.MkdirTemp("", "gspy-e2e-"); err != nil {
		return nil, err
	}
	if err := hh.startDaemon(); err != nil {
		os.RemoveAll(hh.buildDir)
		return nil, err
	}
	return hh, nil
}

var listenRE = regexp.MustCompile(`^gspyd: listening on (127\.0\.0\.1:[0-9]+)$`)

func (hh *harness) startDaemon() error {
	// Only --listen: the defaults (99 Hz, --max-duration=300s) are what the
	// tests expect, e.g. that --duration=100000s is rejected.
	cmd := exec.Command(hh.gspydBin, "--listen=127.0.0.1:0")
	// A test binary that panics skips every cleanup: the daemon goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Stdout = hh.log
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting gspyd: %v", err)
	}
	hh.daemon = cmd
	hh.daemonDone = make(chan struct{})
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Text()
			hh.log.Write([]byte(line + "\n"))
			if m := listenRE.FindStringSubmatch(line); m != nil && !found {
				found = true
				addrCh <- m[1]
			}
		}
		hh.daemonErr = cmd.Wait()
		close(hh.daemonDone)
	}()
	select {
	case hh.addr = <-addrCh:
		return nil
	case <-hh.daemonDone:
		return fmt.Errorf("gspyd exited before printing %q (%v); output:\n%s",
			"gspyd: listening on 127.0.0.1:PORT", hh.daemonErr, hh.log.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-hh.daemonDone
		return fmt.Errorf("gspyd did not print its listening line within 60s; output:\n%s", hh.log.String())
	}
}

func (hh *harness) stopDaemon(grace time.Duration) error {
	if hh.daemon == nil {
		return nil
	}
	select {
	case <-hh.daemonDone:
		return nil
	default:
	}
	hh.daemon.Process.Signal(syscall.SIGTERM)
	select {
	case <-hh.daemonDone:
		return nil
	case <-time.After(grace):
		hh.daemon.Process.Kill()
		<-hh.daemonDone
		return fmt.Errorf("gspyd did not exit within %v of SIGTERM", grace)
	}
}

// variant is one way of building cpuwork.
type variant struct {
	name  string
	cgo   bool
	flags []string
	strip bool // GNU strip the result
}

var variants = []variant{
	{name: "default"},
	{name: "pie", flags: []string{"-buildmode=pie"}},
	{name: "ldflags-s-w", flags: []string{"-ldflags=-s -w"}},
	{name: "gnu-strip", strip: true},
	{name: "cgo", cgo: true},
}

// cpuwork builds (once) and returns the cpuwork binary for a variant.
func (hh *harness) cpuwork(t *testing.T, v variant) string {
	t.Helper()
	hh.buildMu.Lock()
	defer hh.buildMu.Unlock()
	if bin, ok := hh.builds[v.name]; ok {
		return bin
	}
	bin := filepath.Join(hh.buildDir, "cpuwork-"+v.name)
	out := bin
	if v.strip {
		out = bin + ".unstripped"
	}
	args := append([]string{"build", "-o", out}, v.flags...)
	args = append(args, ".")
	cmd := exec.Command(hh.goBin, args...)
	cmd.Dir = hh.cpuworkSrc
	cgo := "0"
	if v.cgo {
		cgo = "1"
	}
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo, "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building cpuwork variant %s (go %s, CGO_ENABLED=%s): %v\n%s", v.name, strings.Join(args, " "), cgo, err, b)
	}
	if v.strip {
		if b, err := exec.Command("strip", "-o", bin, out).CombinedOutput(); err != nil {
			t.Fatalf("strip %s: %v\n%s", out, err, b)
		}
	}
	if b, err := exec.Command("file", bin).CombinedOutput(); err == nil {
		t.Logf("built %s", strings.TrimSpace(string(b)))
	}
	hh.builds[v.name] = bin
	return bin
}

type gspyResult struct {
	stdout, stderr string
	exitCode       int
	elapsed        time.Duration
	maxRSS         int64 // the CLI's peak resident set, bytes (getrusage)
}

// gspy runs the CLI against the shared daemon.
func (hh *harness) gspy(t *testing.T, timeout time.Duration, args ...string) gspyResult {
	t.Helper()
	return hh.gspyAt(t, hh.addr, timeout, args...)
}

// gspyAt runs the CLI against the daemon at addr.
func (hh *harness) gspyAt(t *testing.T, addr string, timeout time.Duration, args ...string) gspyResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append([]string{"--server=" + addr}, args...)
	cmd := exec.CommandContext(ctx, hh.gspyBin, full...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	r := gspyResult{stdout: so.String(), stderr: se.String(), elapsed: time.Since(start)}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = ru.Maxrss << 10 // Linux gives KiB
		}
	}
	settleGspyRun(t, ctx, err, &r, args, timeout)
	return r
}

// settleGspyRun takes gspy's exit (the error of its Run or Wait) into r,
// failing the test when gspy had to be killed at its timeout or did not
// run at all, and logs the run.
func settleGspyRun(t *testing.T, ctx context.Context, err error, r *gspyResult, args []string, timeout time.Duration) {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("gspy %s: no answer within %v (killed); stderr:\n%s", strings.Join(args, " "), timeout, r.stderr)
	case errors.As(err, &ee):
		r.exitCode = ee.ExitCode()
	default:
		t.Fatalf("running gspy: %v", err)
	}
	t.Logf("gspy %s -> exit %d in %.1fs%s", strings.Join(args, " "), r.exitCode, r.elapsed.Seconds(), indentIf("stderr", r.stderr))
}

func indentIf(what, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "; " + what + ":\n    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// workload is a running cpuwork process.
type workload struct {
	cmd    *exec.Cmd
	pid    int
	goids  map[string]int64
	events chan map[string]any
	stderr bytes.Buffer
	done   map[string]any
	waited bool
}

// startWorkload starts cpuwork and waits for its "ready" line.
func startWorkload(t *testing.T, bin string, args ...string) *workload {
	t.Helper()
	w := &workload{events: make(chan map[string]any, 16)}
	w.cmd = exec.Command(bin, args...)
	w.cmd.Dir = t.TempDir()
	w.cmd.Stderr = &w.stderr
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		if !w.waited {
			w.cmd.Process.Kill()
			w.cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = map[string]any{"event": "bad-line", "line": sc.Text()}
			}
			w.events <- ev
		}
		close(w.events)
	}()
	ev := w.next(t, 30*time.Second)
	if ev["event"] != "ready" {
		t.Fatalf("cpuwork: expected a ready event, got %v", ev)
	}
	w.pid = int(ev["pid"].(float64))
	if w.pid != w.cmd.Process.Pid {
		t.Fatalf("cpuwork reported pid %d, but its pid is %d", w.pid, w.cmd.Process.Pid)
	}
	w.goids = map[string]int64{}
	if g, ok := ev["goids"].(map[string]any); ok {
		for k, v := range g {
			w.goids[k] = int64(v.(float64))
		}
	}
	return w
}

func (w *workload) next(t *testing.T, timeout time.Duration) map[string]any {
	t.Helper()
	select {
	case ev, ok := <-w.events:
		if !ok {
			w.cmd.Wait()
			w.waited = true
			t.Fatalf("cpuwork exited without the expected event (%v); stderr:\n%s", w.cmd.ProcessState, w.stderr.String())
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("cpuwork: no event within %v", timeout)
	}
	return nil
}

// waitDone waits for the "done" event and the process to exit successfully.
func (w *workload) waitDone(t *testing.T, timeout time.Duration) map[string]any {
	t.Helper()
	ev := w.next(t, timeout)
	if ev["event"] != "done" {
		t.Fatalf("cpuwork: expected a done event, got %v", ev)
	}
	for range w.events {
	}
	err := w.cmd.Wait()
	w.waited = true
	if err != nil {
		t.Fatalf("cpuwork exited with %v; stderr:\n%s", err, w.stderr.String())
	}
	w.done = ev
	return ev
}

// cpuTicks returns utime+stime of a process in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	f := strings.Fields(s[i+1:])
	// After "(comm)": state is field 3, utime field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat: %q", pid, s)
	}
	return u + st, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append([]byte(nil), b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
