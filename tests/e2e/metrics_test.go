package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func labelOf(m *dto.Metric, name string) (string, bool) {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue(), true
		}
	}
	return "", false
}

// series returns the metrics of family `name` whose labels include `want`.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	var out []*dto.Metric
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		for k, v := range want {
			if got, ok := labelOf(m, k); !ok || got != v {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// gcNumbers are one process's GC series in one scrape.
type gcNumbers struct {
	cycles, pauses, readMemStats uint64
	pauseSum                     float64
}

// awaitGcNumbers scrapes until /metrics has the GC series of pid (a rescan
// found it), at most 30 s.
func awaitGcNumbers(t *testing.T, d *ownDaemon, pid int) gcNumbers {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n, ok := gcNumbersOf(t, d.scrape(t), pid); ok {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("no GC series of gcwork pid %d within 30s", pid)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func gcNumbersOf(t *testing.T, fams map[string]*dto.MetricFamily, pid int) (gcNumbers, bool) {
	t.Helper()
	sel := map[string]string{"pid": strconv.Itoa(pid)}
	cycles := series(fams, "gspy_go_gc_cycles_total", sel)
	hist := series(fams, "gspy_go_gc_pause_seconds", sel)
	if len(cycles) == 0 || len(hist) == 0 {
		return gcNumbers{}, false
	}
	if len(cycles) != 1 || len(hist) != 1 {
		t.Fatalf("pid %d: %d cycle series and %d pause histograms, want one each", pid, len(cycles), len(hist))
	}
	h := hist[0].GetHistogram()
	// Cumulative buckets, ending at most at the count (the +Inf bucket is
	// implied by the parser).
	var last uint64
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() < last {
			t.Errorf("gspy_go_gc_pause_seconds buckets of pid %d are not cumulative: %v", pid, h.GetBucket())
		}
		last = b.GetCumulativeCount()
	}
	if last > h.GetSampleCount() {
		t.Errorf("pid %d: last finite bucket %d > count %d", pid, last, h.GetSampleCount())
	}
	n := gcNumbers{cycles: uint64(cycles[0].GetCounter().GetValue()), pauses: h.GetSampleCount(), pauseSum: h.GetSampleSum()}
	sel["reason"] = "read mem stats"
	if rms := series(fams, "gspy_go_stw_pauses_total", sel); len(rms) == 1 {
		n.readMemStats = uint64(rms[0].GetCounter().GetValue())
	}
	return n, true
}

// TestMetrics: gspyd --metrics-listen --metrics-gc-probes exports, for a Go
// process it found by itself, exactly the GC cycles and GC pauses the
// process's own runtime/metrics count over the same window, plus health
// counters that a Prometheus parser accepts.
func TestMetrics(t *testing.T) {
	hh := env(t)
	bin := hh.gcworkBuild(t, "", "")
	// The uprobe source: the books one (the default) has no reasons.
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0", "--metrics-gc-rescan=1s", "--metrics-gc-probes")

	resp, err := http.Get("http://" + d.metricsAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("/healthz: %s %q", resp.Status, body)
	}

	// -linger: the process stays, idle, after its done line until the test
	// kills it. Without it, it exits at once and a rescan (every 1 s) may
	// drop its series before the scrape below, later on a busy machine.
	w := startGcwork(t, bin, "-seconds=2", "-readmemstats=3", "-linger=60s")
	// Wait for a rescan to find the workload and its watch to start; it is
	// idle until the go line, so nothing is missed.
	before := awaitGcNumbers(t, d, w.pid)
	// No CPU pull has run: the sampler's perf events are off, its program
	// has not run (it did on every CPU at 99 Hz when they were left on).
	if runs := series(d.scrape(t), "gspy_bpf_program_runs_total", map[string]string{"program": "sample_cpu"}); len(runs) != 1 || runs[0].GetCounter().GetValue() != 0 {
		t.Errorf("sample_cpu ran before any CPU pull: %v", runs)
	}
	if _, err := io.WriteString(w.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	ev := w.next(t, 60*time.Second)
	if ev["event"] != "done" {
		t.Fatalf("gcwork: expected done, got %v", ev)
	}
	// gcwork now idles: the quiescent moment. Every pause it counted ended
	// before it printed, and a scrape delivers what is still in the ring
	// buffer first.
	fams := d.scrape(t)
	after, ok := gcNumbersOf(t, fams, w.pid)
	if !ok {
		t.Fatalf("the GC series of pid %d were gone right after its done line", w.pid)
	}
	wantCycles := uint64(ev["cycles"].(float64))
	wantPauses := uint64(ev["pauses"].(float64))
	wantOther := uint64(ev["other_pauses"].(float64))
	gotCycles := after.cycles - before.cycles
	gotPauses := after.pauses - before.pauses
	gotOther := after.readMemStats - before.readMemStats
	gotSum := after.pauseSum - before.pauseSum
	t.Logf("gcwork %s: runtime/metrics cycles=%d gc_pauses=%d other=%d total~%.6fs [%.6f, %.6f]; "+
		"gspy_go_gc_cycles_total +%d, gspy_go_gc_pause_seconds count +%d sum +%.6fs, read mem stats +%d",
		w.version, wantCycles, wantPauses, wantOther, ev["pause_total_mid"], ev["pause_total_lo"], ev["pause_total_hi"],
		gotCycles, gotPauses, gotSum, gotOther)
	if wantCycles == 0 || wantPauses == 0 {
		t.Fatalf("gcwork ran no GC: %v", ev)
	}
	if gotCycles != wantCycles {
		t.Errorf("gspy_go_gc_cycles_total rose by %d, runtime/metrics %s by %d", gotCycles, "/gc/cycles/total:gc-cycles", wantCycles)
	}
	if gotPauses != wantPauses {
		t.Errorf("gspy_go_gc_pause_seconds_count rose by %d, runtime/metrics %s count by %d", gotPauses, "/sched/pauses/total/gc:seconds", wantPauses)
	}
	if gotOther != wantOther {
		t.Errorf("gspy_go_stw_pauses_total{reason=\"read mem stats\"} rose by %d, /sched/pauses/total/other:seconds by %d", gotOther, wantOther)
	}
	// The sum is Go's own clock readings; the workload's total is estimated
	// from its histogram's buckets, so only its bounds are firm.
	if lo, hi := ev["pause_total_lo"].(float64), ev["pause_total_hi"].(float64); gotSum < lo*0.99 || gotSum > hi*1.01 {
		t.Errorf("gspy_go_gc_pause_seconds_sum rose by %.6fs, outside the workload's bounds [%.6f, %.6f]", gotSum, lo, hi)
	}
	for _, m := range series(fams, "gspy_go_gc_cycles_total", map[string]string{"pid": strconv.Itoa(w.pid)}) {
		if v, _ := labelOf(m, "go_version"); v != w.version {
			t.Errorf("go_version label %q, want %q", v, w.version)
		}
		if v, _ := labelOf(m, "exe"); filepath.Base(v) != filepath.Base(bin) {
			t.Errorf("exe label %q, want the gcwork binary %s", v, bin)
		}
	}

	// A gRPC error, counted by method and code.
	r := hh.gspyAt(t, d.addr, 30*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", unusedPid(t)),
		"--duration=1s", "-o", filepath.Join(t.TempDir(), "x.pb.gz"))
	expectRPCError(t, r, "NOT_FOUND")

	// A CPU pull, so the sampler's BPF program runs (its perf events are
	// off while no pull needs them).
	cw := startWorkload(t, hh.cpuwork(t, variants[0]), "-mode=split", "-duration=3s")
	r = hh.gspyAt(t, d.addr, 30*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", cw.pid),
		"--duration=1s", "-o", filepath.Join(t.TempDir(), "cpu.pb.gz"))
	if r.exitCode != 0 {
		t.Fatalf("CPU pull failed: %s", r.stderr)
	}

	fams = d.scrape(t)
	checkHealthMetrics(t, fams)
	if errs := series(fams, "gspy_grpc_errors_total", map[string]string{"code": "NOT_FOUND"}); len(errs) == 0 ||
		errs[0].GetCounter().GetValue() < 1 {
		t.Errorf("no gspy_grpc_errors_total{code=\"NOT_FOUND\"} after a NOT_FOUND pull")
	}

	// Once the process has exited, its series go at the next rescan.
	w.cmd.Process.Kill()
	w.cmd.Wait()
	w.waited = true
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, ok := gcNumbersOf(t, d.scrape(t), w.pid); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the GC series of pid %d were still there 15s after it exited", w.pid)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkHealthMetrics: the daemon's health families are there, nothing is
// negative, and the BPF programs that ran were counted.
func checkHealthMetrics(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	for _, name := range []string{
		"gspy_cpu_samples_total", "gspy_cpu_samples_lost_total", "gspy_cpu_samples_without_goroutine_total",
		"gspy_cpu_stack_errors_total", "gspy_gc_events_total", "gspy_gc_events_lost_total",
		"gspy_gc_attached_processes", "gspy_go_processes", "gspy_go_processes_unsupported",
		"gspy_gc_watched_processes", "gspy_grpc_calls_total", "gspy_grpc_errors_total",
		"gspy_grpc_calls_in_flight", "gspy_bpf_program_runs_total", "gspy_bpf_program_run_seconds_total",
		"gspy_bpf_map_max_entries", "gspy_bpf_map_entries", "gspy_bpf_ringbuf_used_bytes",
		"process_resident_memory_bytes", "process_open_fds",
	} {
		if fams[name] == nil || len(fams[name].GetMetric()) == 0 {
			t.Errorf("no %s series", name)
		}
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var v float64
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			default:
				continue
			}
			if v < 0 {
				t.Errorf("%s%v = %v < 0", name, m.GetLabel(), v)
			}
		}
	}
	if enabled := series(fams, "gspy_bpf_stats_enabled", nil); len(enabled) != 1 || enabled[0].GetGauge().GetValue() != 1 {
		t.Errorf("BPF statistics not enabled: %v", enabled)
	}
	for _, prog := range []string{"sample_cpu", "gc_stw_stop", "gc_mark_termina"} {
		runs := series(fams, "gspy_bpf_program_runs_total", map[string]string{"program": prog})
		secs := series(fams, "gspy_bpf_program_run_seconds_total", map[string]string{"program": prog})
		if len(runs) != 1 || runs[0].GetCounter().GetValue() <= 0 || len(secs) != 1 || secs[0].GetCounter().GetValue() <= 0 {
			t.Errorf("BPF program %s: runs %v, seconds %v; want both > 0", prog, runs, secs)
		}
	}
	if rss := series(fams, "process_resident_memory_bytes", nil); len(rss) != 1 || rss[0].GetGauge().GetValue() < 1<<20 {
		t.Errorf("process_resident_memory_bytes %v, want at least 1 MiB", rss)
	}
	if g := series(fams, "gspy_go_processes", nil); len(g) != 1 || g[0].GetGauge().GetValue() < 1 {
		t.Errorf("gspy_go_processes %v, want at least the workload", g)
	}
}

// TestMetricsListenErrors: an unusable --metrics-listen stops gspyd at
// startup with a message that says why.
func TestMetricsListenErrors(t *testing.T) {
	hh := env(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, c := range []struct{ flag, want string }{
		{"--metrics-listen=" + ln.Addr().String(), "Address already in use"},
		{"--metrics-listen=no-such-host.invalid:7071", "no-such-host.invalid"},
		{"--metrics-listen=7071", "not HOST:PORT"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, hh.gspydBin, "--listen=127.0.0.1:0", "--kube-api=none", c.flag)
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || timedOut || ee.ExitCode() == 0 {
			t.Errorf("gspyd %s: %v, want a non-zero exit; output:\n%s", c.flag, err, out)
			continue
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("gspyd %s: output lacks %q:\n%s", c.flag, c.want, out)
		}
	}
}
