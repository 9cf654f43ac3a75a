package e2e

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	dto "github.com/prometheus/client_model/go"
)

// psiText is a /proc/pressure file as the kernel writes it
// (Documentation/accounting/psi.rst) with "some avg10" at `avg10` percent.
func psiText(avg10 float64) string {
	return fmt.Sprintf("some avg10=%.2f avg60=%.2f avg300=0.00 total=123456\n"+
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", avg10, avg10/2)
}

func gaugeOf(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	s := series(fams, name, labels)
	if len(s) != 1 {
		return 0, false
	}
	return s[0].GetGauge().GetValue(), true
}

// cpuTotals sums a CPU profile's samples and cpu nanoseconds.
func cpuTotals(p *profile.Profile) (samples, cpuNs int64) {
	for _, s := range p.Sample {
		samples += s.Value[0]
		cpuNs += s.Value[1]
	}
	return samples, cpuNs
}

// periodStretch: one "FROM-TO s every P ms" of a CPU profile's back-off
// timeline comment.
type periodStretch struct{ from, to, periodMs float64 }

func periodStretches(p *profile.Profile) []periodStretch {
	re := regexp.MustCompile(`([0-9.]+)-([0-9.]+) s every ([0-9.]+) ms`)
	var out []periodStretch
	for _, c := range p.Comments {
		if !strings.Contains(c, "Over time: ") {
			continue
		}
		for _, m := range re.FindAllStringSubmatch(c, -1) {
			var s periodStretch
			s.from, _ = strconv.ParseFloat(m[1], 64)
			s.to, _ = strconv.ParseFloat(m[2], 64)
			s.periodMs, _ = strconv.ParseFloat(m[3], 64)
			out = append(out, s)
		}
	}
	return out
}

func hasComment(p *profile.Profile, part string) bool {
	for _, c := range p.Comments {
		if strings.Contains(c, part) {
			return true
		}
	}
	return false
}

// TestBackoffUnderForcedPressure forces an overload through the node's
// pressure files (a directory the test writes, --backoff-psi-dir) and
// checks that gspyd lowers its CPU sampling rate, that the profiles say so
// (their period), that their CPU totals stay honest against the kernel's
// count of the workload's CPU time, including a profile during which the
// rate changed, that /metrics shows the rate, the scale and the reason, and
// that the rate climbs back once the pressure is gone.
func TestBackoffUnderForcedPressure(t *testing.T) {
	hh := env(t)
	psi := t.TempDir()
	writePSI := func(avg10 float64) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(psi, "cpu"), []byte(psiText(avg10)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writePSI(0.5)
	// Only the PSI signal: gspyd's own CPU use on a shared test machine
	// must not decide when it backs off here.
	d := startOwnDaemon(t, hh, "--metrics-listen=127.0.0.1:0", "--cpu-hz=100",
		"--backoff-psi-dir="+psi, "--backoff-psi-cpu=50", "--backoff-cpu-budget=0",
		"--backoff-min-scale=0.1", "--backoff-recover-after=2s")

	metricsNow := func() (hz, scale float64, reason string) {
		t.Helper()
		fams := d.scrape(t)
		var ok bool
		if hz, ok = gaugeOf(fams, "gspy_effective_cpu_sampling_hz", nil); !ok {
			t.Fatalf("/metrics has no gspy_effective_cpu_sampling_hz")
		}
		if scale, ok = gaugeOf(fams, "gspy_backoff_scale", nil); !ok {
			t.Fatalf("/metrics has no gspy_backoff_scale")
		}
		ones := 0
		for _, m := range series(fams, "gspy_backoff_reason", nil) {
			if m.GetGauge().GetValue() == 1 {
				reason, _ = labelOf(m, "reason")
				ones++
			}
		}
		if ones != 1 {
			t.Fatalf("gspy_backoff_reason has %d series at 1, want exactly one", ones)
		}
		return hz, scale, reason
	}
	if hz, scale, reason := metricsNow(); hz != 100 || scale != 1 || reason != "none" {
		t.Fatalf("calm: hz %v scale %v reason %q, want 100, 1, none", hz, scale, reason)
	}

	bin := hh.cpuwork(t, variants[0])
	w := startWorkload(t, bin, "-mode=split", "-duration=60s")
	dir := t.TempDir()
	// profile takes a CPU profile of cpuwork for `seconds`, calling `during`
	// (if any) after `after` seconds, and returns it with cpuwork's CPU time
	// meanwhile, as the kernel counts it.
	profileOf := func(name string, seconds int, after time.Duration, during func()) (*profile.Profile, float64) {
		t.Helper()
		out := filepath.Join(dir, name+".pb.gz")
		t0, err := cpuTicks(w.pid)
		if err != nil {
			t.Fatal(err)
		}
		if during != nil {
			timer := time.AfterFunc(after, during)
			defer timer.Stop()
		}
		r := hh.gspyAt(t, d.addr, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w.pid),
			fmt.Sprintf("--duration=%ds", seconds), "-o", out)
		t1, _ := cpuTicks(w.pid)
		if r.exitCode != 0 {
			t.Fatalf("gspy profile exited %d; stderr:\n%s", r.exitCode, r.stderr)
		}
		p := readProfile(t, out)
		checkCPUConventions(t, p)
		return p, float64(t1-t0) / 100 // CLK_TCK is 100 on Linux
	}
	// The profile's CPU total against cpuwork's CPU time during the pull
	// (which also covers gspy's start-up, so the profile may have less).
	checkTotal := func(name string, p *profile.Profile, cpuSeconds float64) {
		t.Helper()
		samples, cpuNs := cpuTotals(p)
		ratio := float64(cpuNs) / 1e9 / cpuSeconds
		t.Logf("%s: %d samples, period %d ns, cpu %.2f s; cpuwork used %.2f CPU-s (ratio %.2f); comments %q",
			name, samples, p.Period, float64(cpuNs)/1e9, cpuSeconds, ratio, p.Comments)
		if samples < 10 || cpuSeconds < 0.5 {
			t.Fatalf("%s: too little to compare (%d samples, %.2f CPU-s)", name, samples, cpuSeconds)
		}
		// Few samples (10 Hz, a busy test machine) estimate less precisely:
		// the bounds widen by 1/sqrt(n), the error of a count, n counted in
		// the longest period's samples (they weigh most).
		longest := float64(p.Period)
		for _, s := range p.Sample {
			if s.Value[0] > 0 {
				longest = math.Max(longest, float64(s.Value[1])/float64(s.Value[0]))
			}
		}
		slack := 1 / math.Sqrt(float64(cpuNs)/longest)
		if lo, hi := 0.6-slack, 1.25+slack; ratio < lo || ratio > hi {
			t.Errorf("%s: the profile's CPU total is %.2f x cpuwork's CPU time, want within [%.2f, %.2f]", name, ratio, lo, hi)
		}
		// samples x period is the total too (the period is the mean).
		if got := float64(samples) * float64(p.Period); math.Abs(got-float64(cpuNs)) > 0.01*float64(cpuNs) {
			t.Errorf("%s: samples x period = %.0f ns, the cpu values add up to %d ns", name, got, cpuNs)
		}
	}

	calm, calmCPU := profileOf("calm", 6, 0, nil)
	if calm.Period != 10_000_000 {
		t.Errorf("calm profile: period %d ns, want 10000000 (100 Hz)", calm.Period)
	}
	checkTotal("calm", calm, calmCPU)

	// The node under CPU pressure from the third second of a 10 s profile:
	// the rate falls from 100 Hz to 10 Hz within it.
	mixed, mixedCPU := profileOf("mixed", 10, 3*time.Second, func() { writePSI(99) })
	if mixed.Period <= calm.Period {
		t.Errorf("backed-off profile: period %d ns, want more than the calm %d ns", mixed.Period, calm.Period)
	}
	if !hasComment(mixed, "sampling rate changed") {
		t.Errorf("the profile during which the rate changed does not say so: %q", mixed.Comments)
	}
	// And when: 100 Hz until about the third second, 10 Hz at the end.
	stretches := periodStretches(mixed)
	t.Logf("mixed: stretches %v", stretches)
	if n := len(stretches); n < 2 || stretches[0].periodMs != 10 || stretches[n-1].periodMs != 100 ||
		stretches[0].to < 2 || stretches[0].to > 6 {
		t.Errorf("the mixed profile's timeline %v: want 10 ms from the start to about 3 s, 100 ms at the end", stretches)
	}
	checkTotal("mixed", mixed, mixedCPU)

	hz, scale, reason := metricsNow()
	t.Logf("under pressure: %v Hz, scale %v, reason %s", hz, scale, reason)
	if hz != 10 || math.Abs(scale-0.1) > 1e-9 || reason != "psi_cpu" {
		t.Errorf("under pressure: hz %v scale %v reason %q, want 10, 0.1, psi_cpu", hz, scale, reason)
	}

	low, lowCPU := profileOf("low", 10, 0, nil)
	if low.Period != 100_000_000 {
		t.Errorf("backed-off profile: period %d ns, want 100000000 (10 Hz)", low.Period)
	}
	if !hasComment(low, "backed off") {
		t.Errorf("the backed-off profile does not say so: %q", low.Comments)
	}
	checkTotal("low", low, lowCPU)

	// Pressure gone: after 2 s of quiet the rate climbs a step a second.
	writePSI(0)
	deadline := time.Now().Add(20 * time.Second)
	for {
		hz, scale, _ = metricsNow()
		if scale >= 0.3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after the pressure went, scale %v (%v Hz): no recovery", scale, hz)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("recovering: %v Hz, scale %v", hz, scale)
	if hz <= 10 {
		t.Errorf("recovering: scale %v but still %v Hz", scale, hz)
	}
	if !d.alive() {
		t.Fatalf("gspyd died:\n%s", d.log.String())
	}
	if !strings.Contains(d.log.String(), "back-off: sampling at") {
		t.Errorf("gspyd's log does not mention the back-off:\n%s", d.log.String())
	}
}
