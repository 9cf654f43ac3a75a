package alerts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// helmVersion is the Helm tests/deploy builds; both use the same cache.
const helmVersion = "v3.22.0"

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helm returns $HELM_BIN, or Helm built once into the user's cache directory
// (shared with tests/deploy, which usually built it already).
func helm(t testing.TB) string {
	t.Helper()
	helmOnce.Do(func() {
		if p := os.Getenv("HELM_BIN"); p != "" {
			helmPath = p
			return
		}
		helmPath, helmErr = goInstall("helm.sh/helm/v3/cmd/helm", helmVersion, "helm")
	})
	if helmErr != nil {
		t.Fatal(helmErr)
	}
	return helmPath
}

// goInstall builds pkg@version into the user's cache directory once and
// returns the binary's path.
func goInstall(pkg, version, name string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "gspy-tests", name+"-"+version)
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", pkg+"@"+version)
	// go install pkg@version ignores this module; GOFLAGS from the
	// environment (-mod=...) would only get in its way.
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s %s: %v\n%s", name, version, err, out)
	}
	fmt.Fprintf(os.Stderr, "built %s %s in %v\n", name, version, time.Since(start).Round(time.Second))
	return path, nil
}

// renderRules renders the chart's PrometheusRule with the values given and
// returns its spec: a Prometheus rules file, as the Operator hands it to
// Prometheus.
func renderRules(t testing.TB, set ...string) []byte {
	t.Helper()
	args := []string{"template", "gspy", filepath.Join(repoRoot(t), "helm", "gspy"), "--namespace", "gspy",
		"--show-only", "templates/prometheusrule.yaml", "--set", "prometheusRule.enabled=true"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helm(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	// The spec is the document's indented block after "spec:".
	_, spec, ok := strings.Cut(string(out), "\nspec:\n")
	if !ok {
		t.Fatalf("no spec in the rendered PrometheusRule:\n%s", out)
	}
	var b strings.Builder
	for _, line := range strings.Split(spec, "\n") {
		b.WriteString(strings.TrimPrefix(line, "  "))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

var metricsRE = regexp.MustCompile(`^gspyd: metrics on http://(127\.0\.0\.1:[0-9]+)/metrics$`)

// startGspyd runs gspyd with /metrics on a free port and returns its address.
func startGspyd(t *testing.T, flags ...string) string {
	t.Helper()
	bin := os.Getenv("GSPYD_BIN")
	if bin == "" {
		t.Fatal("GSPYD_BIN is not set (ctest sets it)")
	}
	args := append([]string{"--listen=127.0.0.1:0", "--kube-api=none", "--metrics-listen=127.0.0.1:0"}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting gspyd: %v", err)
	}
	addr := make(chan string, 1)
	var log bytes.Buffer
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			if log.Len() < 1<<20 {
				log.WriteString(sc.Text() + "\n")
			}
			mu.Unlock()
			if m := metricsRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			mu.Lock()
			t.Logf("gspyd's log:\n%s", log.String())
			mu.Unlock()
		}
	})
	select {
	case a := <-addr:
		return a
	case <-time.After(60 * time.Second):
		t.Fatal("gspyd did not say where its metrics are within 60 s")
	}
	return ""
}

// workload is a Go program of tests/ started for a test.
type workload struct {
	pid   int
	exe   string
	stdin io.WriteCloser
}

// buildWorkload builds the Go module in dir into the test's temp dir.
func buildWorkload(t *testing.T, dir, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", dir, err, b)
	}
	return out
}

// startWorkload runs exe and waits for its {"event":"ready","pid":N} line.
func startWorkload(t *testing.T, exe string, env []string, args ...string) *workload {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan map[string]any, 1)
	go func() {
		dec := json.NewDecoder(stdout)
		for {
			var ev map[string]any
			if dec.Decode(&ev) != nil {
				return
			}
			if ev["event"] == "ready" {
				ready <- ev
			}
		}
	}()
	select {
	case ev := <-ready:
		return &workload{pid: int(ev["pid"].(float64)), exe: exe, stdin: stdin}
	case <-time.After(60 * time.Second):
		t.Fatalf("%s %v: no ready line within 60 s", exe, args)
	}
	return nil
}

// scrape is one /metrics scrape, parsed with Prometheus' own text parser.
type scrape struct {
	at       time.Time
	families map[string]*dto.MetricFamily
	declared map[string]bool // every family with a # TYPE line, samples or not
}

func scrapeOnce(t testing.TB, addr string) scrape {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	declared := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			declared[f[2]] = true
		}
	}
	return scrape{at: at, families: fams, declared: declared}
}
