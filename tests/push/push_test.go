package push

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var (
	listenRE  = regexp.MustCompile(`^gspyd: listening on (127\.0\.0\.1:[0-9]+)$`)
	metricsRE = regexp.MustCompile(`^gspyd: metrics on http://(127\.0\.0\.1:[0-9]+)/metrics$`)
)

func gspydBin(t *testing.T) string {
	t.Helper()
	p := os.Getenv("GSPYD_BIN")
	if p == "" {
		t.Fatal("GSPYD_BIN is not set (e.g. build/daemon/gspyd)")
	}
	if os.Geteuid() != 0 {
		t.Fatalf("must run as root (gspyd loads BPF programs); euid %d", os.Geteuid())
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

var (
	cpuworkOnce sync.Once
	cpuworkBin  string
	cpuworkErr  error
)

// cpuwork builds tests/workloads/cpuwork once.
func cpuwork(t *testing.T) string {
	t.Helper()
	cpuworkOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gspy-push-")
		if err != nil {
			cpuworkErr = err
			return
		}
		cpuworkBin = filepath.Join(dir, "cpuwork")
		cmd := exec.Command("go", "build", "-o", cpuworkBin, ".")
		cmd.Dir = filepath.Join("..", "workloads", "cpuwork")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			cpuworkErr = fmt.Errorf("building cpuwork: %v\n%s", err, out)
		}
	})
	if cpuworkErr != nil {
		t.Fatal(cpuworkErr)
	}
	return cpuworkBin
}

// startWorkload runs cpuwork -mode=split for `d` and returns its pid.
func startWorkload(t *testing.T, d time.Duration) int {
	t.Helper()
	cmd := exec.Command(cpuwork(t), "-mode=split", "-duration="+d.String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.Contains(sc.Text(), `"ready"`) {
		t.Fatalf("cpuwork did not say ready: %q", sc.Text())
	}
	go io.Copy(io.Discard, stdout)
	return cmd.Process.Pid
}

type daemon struct {
	cmd         *exec.Cmd
	metricsAddr string
	mu          sync.Mutex
	log         strings.Builder
	done        chan struct{}
}

func (d *daemon) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// startDaemon runs gspyd with its push flags and a metrics port.
func startDaemon(t *testing.T, flags ...string) *daemon {
	t.Helper()
	// The sampled wait metrics from continuous mode's own sweeps, which
	// TestPushProfileTypes compares with the pushed block profiles (by
	// default gspyd sweeps every Go process for them instead).
	args := append([]string{"--listen=127.0.0.1:0", "--kube-api=none",
		"--metrics-listen=127.0.0.1:0", "--metrics-gc=false",
		"--metrics-sampled-waits=false"}, flags...)
	d := &daemon{done: make(chan struct{})}
	d.cmd = exec.Command(gspydBin(t), args...)
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		listening := false
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.log.WriteString(line + "\n")
			d.mu.Unlock()
			if m := metricsRE.FindStringSubmatch(line); m != nil {
				d.metricsAddr = m[1]
			}
			if listenRE.MatchString(line) && !listening {
				listening = true
				ready <- line
			}
		}
		d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		d.stop(t)
		if t.Failed() {
			t.Logf("gspyd output:\n%s", d.output())
		}
	})
	select {
	case <-ready:
	case <-d.done:
		t.Fatalf("gspyd exited at start:\n%s", d.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("gspyd did not start:\n%s", d.output())
	}
	return d
}

func (d *daemon) stop(t *testing.T) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
		t.Errorf("gspyd did not exit within 20s of SIGTERM")
	}
}

// metric reads one sample of /metrics: name{labels} (labels as k=v pairs,
// a subset of the sample's).
func (d *daemon) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + d.metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	f, ok := families[name]
	if !ok {
		t.Fatalf("/metrics has no %s", name)
	}
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			match = match && got[k] == v
		}
		if match {
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("/metrics has no %s%v", name, labels)
	return 0
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// unique keeps one CPU profile per window start (a retried request may
// arrive twice; the backend de-duplicates by ID) and sorts by start.
func unique(ps []received, pid int) []received {
	seen := map[int64]bool{}
	var out []received
	for _, p := range ps {
		if p.labels["pid"] != strconv.Itoa(pid) || p.labels["__name__"] != "process_cpu" || seen[p.prof.TimeNanos] {
			continue
		}
		seen[p.prof.TimeNanos] = true
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].prof.TimeNanos < out[j].prof.TimeNanos })
	return out
}

// gaps counts the intervals missing between consecutive profiles: each
// profile's window starts where the previous one ended.
func gaps(t *testing.T, ps []received) int {
	missing := 0
	for i := 1; i < len(ps); i++ {
		prevEnd := ps[i-1].prof.TimeNanos + ps[i-1].prof.DurationNanos
		if ps[i].prof.TimeNanos != prevEnd {
			missing++
		}
	}
	return missing
}

func functions(p *received) map[string]bool {
	out := map[string]bool{}
	for _, l := range p.prof.Location {
		for _, line := range l.Line {
			out[line.Function.Name] = true
		}
	}
	return out
}

// checkProfiles: what both backends must get for cpuwork.
func checkProfiles(t *testing.T, backend string, ps []received, pid int, exe string) {
	t.Helper()
	if len(ps) == 0 {
		t.Fatalf("%s: no profile of pid %d", backend, pid)
	}
	var alpha, beta bool
	for i := range ps {
		p := &ps[i]
		want := map[string]string{"__name__": "process_cpu", "service_name": "gspy.dev/workloads/cpuwork",
			"pid": strconv.Itoa(pid), "exe": exe, "cluster": "test"}
		for k, v := range want {
			if p.labels[k] != v {
				t.Errorf("%s: label %s=%q, want %q (labels %v)", backend, k, p.labels[k], v, p.labels)
			}
		}
		if got := p.prof.SampleType; len(got) != 2 || got[1].Type != "cpu" || got[1].Unit != "nanoseconds" {
			t.Errorf("%s: sample types %v", backend, got)
		}
		if backend == "pyroscope" && len(p.id) != 36 {
			t.Errorf("pyroscope: RawSample.ID %q is not a UUID", p.id)
		}
		f := functions(p)
		alpha = alpha || f["main.spinAlpha"]
		beta = beta || f["main.spinBeta"]
	}
	if !alpha || !beta {
		t.Errorf("%s: main.spinAlpha (%v) or main.spinBeta (%v) missing from every profile", backend, alpha, beta)
	}
}

// TestPushBothBackends: gspyd pushes cpuwork's CPU profiles every second to
// Pyroscope and Parca with a bearer token; the token file is replaced
// mid-run; the Pyroscope receiver is killed for 4 s and restarted on the
// same port. Both must end up with every interval: no gap, nothing dropped.
func TestPushBothBackends(t *testing.T) {
	pid := startWorkload(t, 60*time.Second)
	exe := cpuwork(t)
	pyroStore, parcaStore := &store{}, &store{}
	pyro := startPyroscope(t, pyroStore, "127.0.0.1:0", nil)
	parca := startParca(t, parcaStore)
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("first-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--push-pyroscope-url=http://"+pyro.addr, "--push-parca-url=http://"+parca.addr,
		"--push-interval=1s", "--push-profiles=cpu", "--push-exe="+exe, "--push-labels=cluster=test",
		"--push-bearer-token-file="+token, "--push-max-attempts=0",
		"--push-retry-initial-backoff=200ms", "--push-retry-max-backoff=1s")

	count := func(s *store) int { ps, _, _ := s.snapshot(); return len(unique(ps, pid)) }
	waitFor(t, "3 profiles at each backend", 30*time.Second, func() bool {
		return count(pyroStore) >= 3 && count(parcaStore) >= 3
	})
	// Rotate the token (a new file, as a Secret update does).
	if err := os.WriteFile(token+".new", []byte("second-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(token+".new", token); err != nil {
		t.Fatal(err)
	}
	n := count(parcaStore)
	waitFor(t, "2 more Parca profiles", 20*time.Second, func() bool { return count(parcaStore) >= n+2 })

	// The outage.
	before := count(pyroStore)
	pyro.kill()
	killedAt := time.Now()
	time.Sleep(4 * time.Second)
	pyro = startPyroscope(t, pyroStore, pyro.addr, nil)
	t.Logf("Pyroscope receiver down for %v with %d profiles received", time.Since(killedAt).Round(time.Millisecond), before)
	waitFor(t, "the profiles of the outage", 30*time.Second, func() bool { return count(pyroStore) >= before+6 })

	// End the workload (its last interval is cut as it exits) and let the
	// queues empty, so the numbers settle.
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, "the last profiles", 30*time.Second, func() bool {
		return d.metric(t, "gspy_continuous_processes") == 0 &&
			d.metric(t, "gspy_push_queue_profiles", "backend=pyroscope") == 0 &&
			d.metric(t, "gspy_push_queue_profiles", "backend=parca") == 0
	})
	time.Sleep(200 * time.Millisecond) // the response of the last request
	cut := d.metric(t, "gspy_continuous_profiles_total", "type=cpu")
	for _, b := range []string{"pyroscope", "parca"} {
		for _, reason := range []string{"queue_full", "retries_exhausted", "rejected"} {
			if v := d.metric(t, "gspy_push_dropped_profiles_total", "backend="+b, "reason="+reason); v != 0 {
				t.Errorf("%s: %v profiles dropped (%s)", b, v, reason)
			}
		}
	}
	if v := d.metric(t, "gspy_push_request_errors_total", "backend=pyroscope"); v < 1 {
		t.Errorf("gspy_push_request_errors_total{backend=pyroscope} = %v, want the outage's failures", v)
	}
	retries := d.metric(t, "gspy_push_retries_total", "backend=pyroscope")
	pushedPyro := d.metric(t, "gspy_push_profiles_total", "backend=pyroscope")

	pyroAll, pyroErrs, _ := pyroStore.snapshot()
	parcaAll, parcaErrs, _ := parcaStore.snapshot()
	for _, e := range append(pyroErrs, parcaErrs...) {
		t.Error(e)
	}
	pyroPs, parcaPs := unique(pyroAll, pid), unique(parcaAll, pid)
	checkProfiles(t, "pyroscope", pyroPs, pid, exe)
	checkProfiles(t, "parca", parcaPs, pid, exe)
	if g := gaps(t, pyroPs); g != 0 {
		t.Errorf("pyroscope: %d intervals missing among %d profiles", g, len(pyroPs))
	}
	if g := gaps(t, parcaPs); g != 0 {
		t.Errorf("parca: %d intervals missing among %d profiles", g, len(parcaPs))
	}
	// Every profile made was received, by both.
	if float64(len(pyroPs)) != cut || float64(len(parcaPs)) != cut {
		t.Errorf("pyroscope received %d distinct profiles, parca %d, gspyd made %v", len(pyroPs), len(parcaPs), cut)
	}
	// The token: the first one, then the second one; Parca too.
	var sawFirst, sawSecond bool
	for _, p := range parcaAll {
		sawFirst = sawFirst || p.auth == "Bearer first-token"
		sawSecond = sawSecond || p.auth == "Bearer second-token"
		if p.auth != "Bearer first-token" && p.auth != "Bearer second-token" {
			t.Errorf("parca: Authorization %q", p.auth)
		}
	}
	if !sawFirst || !sawSecond {
		t.Errorf("parca: saw the first token %v, the second %v", sawFirst, sawSecond)
	}
	if last := pyroAll[len(pyroAll)-1].auth; last != "Bearer second-token" {
		t.Errorf("pyroscope: the last Authorization is %q", last)
	}
	outage := 0
	for _, p := range pyroPs {
		start := time.Unix(0, p.prof.TimeNanos)
		if start.After(killedAt) && start.Before(killedAt.Add(4*time.Second)) {
			outage++
		}
	}
	t.Logf("pyroscope: %d profiles (%d started during the outage, all delivered after it), %v pushed, %v retries; parca: %d profiles; gspyd made %v; no gap, nothing dropped",
		len(pyroPs), outage, pushedPyro, retries, len(parcaPs), cut)
	if outage < 3 {
		t.Errorf("only %d profiles started during the 4 s outage", outage)
	}
}

// TestPushQueueBound: with room for 2 profiles and Pyroscope down for 6
// intervals, what the bound could not keep is what the drop counter says:
// made = received + dropped, and the received ones leave one gap (the
// queue kept the batch it was trying and the newest).
func TestPushQueueBound(t *testing.T) {
	pid := startWorkload(t, 60*time.Second)
	exe := cpuwork(t)
	st := &store{}
	pyro := startPyroscope(t, st, "127.0.0.1:0", nil)
	d := startDaemon(t, "--push-pyroscope-url=http://"+pyro.addr, "--push-interval=1s",
		"--push-profiles=cpu", "--push-exe="+exe, "--push-queue-max-profiles=2", "--push-max-attempts=0",
		"--push-retry-initial-backoff=200ms", "--push-retry-max-backoff=500ms")
	count := func() int { ps, _, _ := st.snapshot(); return len(unique(ps, pid)) }
	waitFor(t, "2 profiles", 30*time.Second, func() bool { return count() >= 2 })
	pyro.kill()
	time.Sleep(6 * time.Second)
	// Stop the workload: no new profiles, so the numbers settle.
	syscall.Kill(pid, syscall.SIGKILL)
	time.Sleep(1500 * time.Millisecond)
	dropped := d.metric(t, "gspy_push_dropped_profiles_total", "backend=pyroscope", "reason=queue_full")
	pyro = startPyroscope(t, st, pyro.addr, nil)
	waitFor(t, "the queue to empty", 30*time.Second, func() bool {
		return d.metric(t, "gspy_push_queue_profiles", "backend=pyroscope") == 0
	})
	cut := d.metric(t, "gspy_continuous_profiles_total", "type=cpu")
	ps, errs, _ := st.snapshot()
	for _, e := range errs {
		t.Error(e)
	}
	got := unique(ps, pid)
	missing := gaps(t, got)
	t.Logf("made %v profiles, received %d, dropped (queue_full) %v, intervals missing %d", cut, len(got), dropped, missing)
	if dropped < 3 {
		t.Errorf("dropped %v: with room for 2 and ~6 intervals down, want at least 3", dropped)
	}
	if float64(len(got))+dropped != cut {
		t.Errorf("received %d + dropped %v != made %v", len(got), dropped, cut)
	}
	if missing == 0 {
		t.Errorf("no interval missing although %v were dropped", dropped)
	}
}

// TestPushTLS: Pyroscope over TLS with a CA file (the certificate names
// 127.0.0.1), then a gspyd without the CA: nothing gets through, which the
// counters say, and with --push-insecure-skip-verify it does.
func TestPushTLS(t *testing.T) {
	pid := startWorkload(t, 60*time.Second)
	exe := cpuwork(t)
	certPEM, cfg := selfSigned(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		flags []string
		ok    bool
	}{
		{"ca-file", []string{"--push-tls-ca-file=" + caFile}, true},
		{"skip-verify", []string{"--push-insecure-skip-verify"}, true},
		{"system-roots", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &store{}
			pyro := startPyroscope(t, st, "127.0.0.1:0", cfg)
			flags := append([]string{"--push-pyroscope-url=https://" + pyro.addr, "--push-interval=1s", "--push-profiles=cpu",
				"--push-exe=" + exe, "--push-max-attempts=2", "--push-retry-initial-backoff=100ms"}, tc.flags...)
			d := startDaemon(t, flags...)
			if tc.ok {
				waitFor(t, "2 profiles over TLS", 30*time.Second, func() bool {
					ps, _, _ := st.snapshot()
					return len(unique(ps, pid)) >= 2
				})
				return
			}
			waitFor(t, "failed requests", 30*time.Second, func() bool {
				return d.metric(t, "gspy_push_dropped_profiles_total", "backend=pyroscope", "reason=retries_exhausted") >= 1
			})
			if ps, _, _ := st.snapshot(); len(ps) != 0 {
				t.Errorf("%d profiles arrived although the certificate is not trusted", len(ps))
			}
		})
	}
}

func selfSigned(t *testing.T) ([]byte, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gspy push test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"h2"}}
}
