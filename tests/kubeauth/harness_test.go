package kubeauth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func binFromEnv(t *testing.T, name string) string {
	t.Helper()
	p := os.Getenv(name)
	if p == "" {
		t.Fatalf("%s is not set: set GSPYD_BIN and GSPY_BIN to the gspyd and gspy binaries (ctest sets them)", name)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// helmVersion: the Helm tests/deploy builds (the same cache directory).
const helmVersion = "v3.22.0"

// helm returns $HELM_BIN, or helm.sh/helm/v3 at helmVersion built once into
// the user's cache directory, as tests/deploy does.
func helm(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HELM_BIN"); p != "" {
		return p
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "gspy-tests", "helm-"+helmVersion)
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "install", "helm.sh/helm/v3/cmd/helm@"+helmVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building helm %s: %v\n%s", helmVersion, err, out)
	}
	return bin
}

// buildCpuwork builds tests/workloads/cpuwork.
func buildCpuwork(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cpuwork")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(repoRoot(t), "tests", "workloads", "cpuwork")
	cmd.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building cpuwork: %v\n%s", err, out)
	}
	return bin
}

func startProcess(t *testing.T, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// cgroup2Mount: where the cgroup2 hierarchy is mounted.
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), " - ", 2)
		if len(parts) != 2 {
			continue
		}
		pre, post := strings.Fields(parts[0]), strings.Fields(parts[1])
		if len(pre) >= 5 && len(post) >= 1 && post[0] == "cgroup2" {
			return pre[4]
		}
	}
	t.Fatal("no cgroup2 hierarchy is mounted: cannot place processes in pod cgroups")
	return ""
}

// moveToCgroup makes the cgroup dir (below mount) and moves pid into it, as
// a container runtime would; undone when the test ends.
func moveToCgroup(t *testing.T, mount, rel string, pid int) {
	t.Helper()
	dir := filepath.Join(mount, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("making cgroup %s (needs root): %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatalf("moving pid %d into %s: %v", pid, dir, err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(mount, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
		for d := dir; d != mount && strings.HasPrefix(d, mount); d = filepath.Dir(d) {
			os.Remove(d)
		}
	})
}

// syncBuffer: a daemon's output, written by its pipe readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	listenRE  = regexp.MustCompile(`gspyd: listening on (127\.0\.0\.1:[0-9]+)`)
	metricsRE = regexp.MustCompile(`gspyd: metrics on http://(127\.0\.0\.1:[0-9]+)/metrics`)
)

// startGspyd runs gspyd with args and returns its gRPC and metrics
// addresses, read from its output.
func startGspyd(t *testing.T, bin string, args ...string) (grpcAddr, metricsAddr string, log *syncBuffer) {
	t.Helper()
	log = &syncBuffer{}
	cmd := exec.Command(bin, args...)
	// The "listening on" lines go to stderr, with the log.
	out, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); pw.Close(); close(exited) }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(io.TeeReader(out, log))
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("gspyd output:\n%s", log.String())
		}
	})
	deadline := time.After(60 * time.Second)
	for grpcAddr == "" || metricsAddr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("gspyd exited before listening:\n%s", log.String())
			}
			if m := listenRE.FindStringSubmatch(l); m != nil {
				grpcAddr = m[1]
			}
			if m := metricsRE.FindStringSubmatch(l); m != nil {
				metricsAddr = m[1]
			}
		case <-deadline:
			t.Fatalf("gspyd is not listening after 60 s:\n%s", log.String())
		}
	}
	return grpcAddr, metricsAddr, log
}

// gspyResult: what a gspy command printed and whether it succeeded.
type gspyResult struct {
	out  string
	err  error
	args []string
}

func (r gspyResult) String() string {
	return fmt.Sprintf("gspy %s: %v\n%s", strings.Join(r.args, " "), r.err, r.out)
}

func runGspy(ctx context.Context, bin string, args ...string) gspyResult {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return gspyResult{out: string(out), err: err, args: args}
}
