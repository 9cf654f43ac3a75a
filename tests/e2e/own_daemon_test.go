package e2e

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var metricsRE = regexp.MustCompile(`^gspyd: metrics on http://(127\.0\.0\.1:[0-9]+)/metrics$`)

// ownDaemon is a gspyd of one test's own, with flags of its own and nothing
// shared with other tests (the shared one runs with the defaults, as users
// run gspyd).
type ownDaemon struct {
	cmd         *exec.Cmd
	addr        string // gRPC
	metricsAddr string // with --metrics-listen
	pid         int
	log         *tailBuffer
	done        chan struct{}
}

// startOwnDaemon starts gspyd --listen=127.0.0.1:0 with `flags` (and
// --kube-api=none unless they say otherwise) and waits for its listening
// lines. At the end of the test it must exit within 15 s of SIGTERM.
func startOwnDaemon(t *testing.T, hh *harness, flags ...string) *ownDaemon {
	t.Helper()
	args := []string{"--listen=127.0.0.1:0"}
	wantMetrics, kube := false, false
	for _, f := range flags {
		wantMetrics = wantMetrics || strings.HasPrefix(f, "--metrics-listen=")
		kube = kube || strings.HasPrefix(f, "--kube-api=")
	}
	if !kube {
		args = append(args, "--kube-api=none")
	}
	d := &ownDaemon{log: newTailBuffer(64 << 10), done: make(chan struct{})}
	d.cmd = exec.Command(hh.gspydBin, append(args, flags...)...)
	// A test binary that panics skips every cleanup: the daemon goes with it.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting gspyd: %v", err)
	}
	d.pid = d.cmd.Process.Pid
	grpcCh, metricsCh := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			d.log.Write([]byte(line + "\n"))
			if m := listenRE.FindStringSubmatch(line); m != nil {
				grpcCh <- m[1]
			}
			if m := metricsRE.FindStringSubmatch(line); m != nil {
				metricsCh <- m[1]
			}
		}
		d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(15 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
			t.Errorf("gspyd %v did not exit within 15s of SIGTERM", flags)
		}
		if t.Failed() {
			t.Logf("own gspyd output (tail):\n%s", d.log.String())
		}
	})
	for d.addr == "" || (wantMetrics && d.metricsAddr == "") {
		select {
		case d.addr = <-grpcCh:
		case d.metricsAddr = <-metricsCh:
		case <-d.done:
			t.Fatalf("gspyd %v exited at start-up:\n%s", flags, d.log.String())
		case <-time.After(60 * time.Second):
			t.Fatalf("gspyd %v: no listening lines within 60s:\n%s", flags, d.log.String())
		}
	}
	return d
}

func (d *ownDaemon) alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return syscall.Kill(d.pid, 0) == nil
	}
}

// scrape GETs /metrics and parses it with Prometheus' own text parser, which
// rejects a malformed exposition (a family split in two groups, a bad label,
// a missing TYPE).
func (d *ownDaemon) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + d.metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the Prometheus text parser rejects /metrics: %v\n%s", err, body)
	}
	return families
}
