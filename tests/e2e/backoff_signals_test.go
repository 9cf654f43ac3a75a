package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
)

// backoffNow: what /metrics says of the back-off, through Prometheus' parser.
type backoffNow struct {
	hz, scale, pressure, rss float64
	reason                   string
}

func (b backoffNow) String() string {
	return fmt.Sprintf("%v Hz, scale %.2f, pressure %.2f, reason %s, RSS %.0f MiB",
		b.hz, b.scale, b.pressure, b.reason, b.rss/(1<<20))
}

func readBackoff(t *testing.T, d *ownDaemon) backoffNow {
	t.Helper()
	fams := d.scrape(t)
	var b backoffNow
	for name, v := range map[string]*float64{
		"gspy_effective_cpu_sampling_hz": &b.hz, "gspy_backoff_scale": &b.scale,
		"gspy_backoff_pressure": &b.pressure, "process_resident_memory_bytes": &b.rss,
	} {
		var ok bool
		if *v, ok = gaugeOf(fams, name, nil); !ok {
			t.Fatalf("/metrics has no single %s", name)
		}
	}
	for _, m := range series(fams, "gspy_backoff_reason", nil) {
		if m.GetGauge().GetValue() == 1 {
			b.reason, _ = labelOf(m, "reason")
		}
	}
	return b
}

// waitBackoff polls /metrics until `ok` holds, for at most `within`.
func waitBackoff(t *testing.T, d *ownDaemon, what string, within time.Duration, ok func(backoffNow) bool) backoffNow {
	t.Helper()
	deadline := time.Now().Add(within)
	start := time.Now()
	for {
		b := readBackoff(t, d)
		if ok(b) {
			t.Logf("%s after %v: %v", what, time.Since(start).Round(100*time.Millisecond), b)
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; now %v", what, within, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// backedOffProfile takes a CPU profile of pid for `seconds` and checks it
// was taken at a lower rate than `hz` and says so.
func backedOffProfile(t *testing.T, hh *harness, d *ownDaemon, pid, seconds, hz int) *profile.Profile {
	t.Helper()
	out := filepath.Join(t.TempDir(), "backedoff.pb.gz")
	r := hh.gspyAt(t, d.addr, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", pid),
		fmt.Sprintf("--duration=%ds", seconds), "-o", out)
	if r.exitCode != 0 {
		t.Fatalf("gspy profile exited %d; stderr:\n%s", r.exitCode, r.stderr)
	}
	p := readProfile(t, out)
	checkCPUConventions(t, p)
	t.Logf("backed-off profile: period %d ns, comments %q", p.Period, p.Comments)
	if p.Period <= int64(time.Second)/int64(hz) {
		t.Errorf("backed-off profile: period %d ns, want more than %d ns (%d Hz)", p.Period, int64(time.Second)/int64(hz), hz)
	}
	if !hasComment(p, "backed off") {
		t.Errorf("the backed-off profile does not say so: %q", p.Comments)
	}
	return p
}

// TestBackoffMemoryBudget: gspyd's resident memory over its budget
// (--backoff-memory-budget) lowers its CPU sampling rate, /metrics names
// memory as the reason, a CPU profile taken meanwhile has the longer
// period and says so, and the rate climbs back once the memory is freed.
// The memory is what a tenant can make gspyd hold: a goroutine dump of
// 1200 goroutines that each carry a 256 KiB label set (not shared: about
// 300 MB of protobuf), held while the client does not read the stream.
func TestBackoffMemoryBudget(t *testing.T) {
	hh := env(t)
	const budget = 256 << 20
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0", "--cpu-hz=100",
		fmt.Sprintf("--backoff-memory-budget=%d", budget),
		// Only the memory signal decides here.
		"--backoff-cpu-budget=0", "--backoff-psi-dir=",
		"--backoff-min-scale=0.25", "--backoff-recover-after=1s",
		// The sampled wait metrics sweep the heavy workload too: they hold
		// at most their label budget of its labels, so the memory goes
		// when the client does.
		"--max-goroutine-dump-bytes=1073741824")
	calm := readBackoff(t, d)
	t.Logf("calm: %v", calm)
	if calm.hz != 100 || calm.scale != 1 || calm.reason != "none" {
		t.Fatalf("calm: %v, want 100 Hz, scale 1, reason none", calm)
	}
	// Recovery needs the resident memory back under 0.8 x the budget.
	if calm.rss > 0.6*budget {
		t.Fatalf("gspyd's RSS at rest (%.0f MiB) leaves no room under the 256 MiB budget", calm.rss/(1<<20))
	}

	cpu := startWorkload(t, hh.cpuwork(t, variants[0]), "-mode=split", "-duration=90s")
	heavy := startGcwork(t, hh.buildWorkload(t, "goroutines", "", ""),
		"-profile="+filepath.Join(t.TempDir(), "go.txt"), "-shared-labels=1200")

	// The dump is built once the first message arrives; gspyd then waits
	// for this client to read the rest, holding it.
	conn := dialGspyd(t, d.addr, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/gspy.v1.Profiler/GetGoroutines")
	if err != nil {
		t.Fatal(err)
	}
	req := goroutinesRequest(heavy.pid, false)
	if err := s.SendMsg(&req); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var first []byte
	if err := s.RecvMsg(&first); err != nil {
		t.Fatalf("the heavy dump: %v", err)
	}
	under := waitBackoff(t, d, "backed off for memory", 20*time.Second, func(b backoffNow) bool {
		return b.reason == "memory" && b.hz < 100 && b.pressure > 1
	})
	if under.rss <= budget {
		t.Errorf("backed off for memory with RSS %.0f MiB under the budget", under.rss/(1<<20))
	}
	// The kernel's own count, not gspyd's: the dump is still held.
	if rss := kernelRSS(t, d.pid); rss <= budget {
		t.Errorf("backed off for memory, but the kernel says gspyd's RSS is %d MiB, under the budget", rss>>20)
	}
	backedOffProfile(t, hh, d, cpu.pid, 3, 100)

	// The client goes: gspyd frees the dump (and returns it to the system,
	// heap_release.h), the pressure ends and the rate climbs back. Under
	// 0.8 x the budget the scale can only hold or grow, so a scale above
	// the one read then is a climb.
	cancel()
	released := waitBackoff(t, d, "memory released", 30*time.Second, func(b backoffNow) bool {
		return b.pressure < 0.8
	})
	waitBackoff(t, d, "climbing back", 30*time.Second, func(b backoffNow) bool {
		return b.scale > released.scale && b.hz > released.hz
	})
	if rss := kernelRSS(t, d.pid); float64(rss) >= 0.8*budget {
		t.Errorf("recovered, but the kernel says gspyd's RSS is still %d MiB", rss>>20)
	}
	if !d.alive() {
		t.Fatalf("gspyd died:\n%s", d.log.String())
	}
	fmt.Fprintln(heavy.stdin, "stop")
}

// TestBackoffRingLosses: CPU samples lost because their ring buffer is full
// make gspyd lower its rate. The ring is made tiny (--cpu-ring-bytes, one
// page) and the rate high, so that a profile of a busy workload overflows
// it between two 50 ms drains: the profile that ran into it says its rate
// changed, /metrics names ring_losses and counts the lost samples, and the
// next profile is taken at the lower rate and says so.
func TestBackoffRingLosses(t *testing.T) {
	hh := env(t)
	const hz = 1000
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0", fmt.Sprintf("--cpu-hz=%d", hz),
		fmt.Sprintf("--cpu-ring-bytes=%d", os.Getpagesize()),
		// Only the losses decide, and the rate stays down for the test.
		"--backoff-cpu-budget=0", "--backoff-psi-dir=", "--backoff-min-scale=0.05",
		"--backoff-recover-after=5m")
	if b := readBackoff(t, d); b.hz != hz || b.reason != "none" {
		t.Fatalf("calm: %v, want %d Hz, reason none", b, hz)
	}
	cpu := startWorkload(t, hh.cpuwork(t, variants[0]), "-mode=split", "-duration=90s")

	out := filepath.Join(t.TempDir(), "overflow.pb.gz")
	r := hh.gspyAt(t, d.addr, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", cpu.pid),
		"--duration=5s", "-o", out)
	if r.exitCode != 0 {
		t.Fatalf("gspy profile exited %d; stderr:\n%s", r.exitCode, r.stderr)
	}
	p := readProfile(t, out)
	t.Logf("the profile that overflowed the ring: period %d ns, comments %q", p.Period, p.Comments)
	if !hasComment(p, "sampling rate changed") {
		t.Errorf("the profile during which the rate changed does not say so: %q", p.Comments)
	}
	b := readBackoff(t, d)
	t.Logf("after: %v", b)
	if b.reason != "ring_losses" || b.hz >= hz {
		t.Errorf("after losses: %v, want reason ring_losses and under %d Hz", b, hz)
	}
	lost, ok := gaugeOrCounter(d.scrape(t), "gspy_cpu_samples_lost_total")
	if !ok || lost <= 0 {
		t.Errorf("gspy_cpu_samples_lost_total = %v (found %v), want some", lost, ok)
	}
	t.Logf("gspy_cpu_samples_lost_total %v", lost)
	backedOffProfile(t, hh, d, cpu.pid, 3, hz)
	if !d.alive() {
		t.Fatalf("gspyd died:\n%s", d.log.String())
	}
}

// gaugeOrCounter: the value of a family's single unlabelled series.
func gaugeOrCounter(fams map[string]*dto.MetricFamily, name string) (float64, bool) {
	s := series(fams, name, nil)
	if len(s) != 1 {
		return 0, false
	}
	if c := s[0].GetCounter(); c != nil {
		return c.GetValue(), true
	}
	return s[0].GetGauge().GetValue(), true
}

// kernelRSS: VmRSS of pid from /proc/<pid>/status, in bytes.
func kernelRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("/proc/%d/status has no VmRSS", pid)
	return 0
}
