package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLabelLimits checks the documented limits on pprof labels read in BPF:
// at most 8 labels a sample (the first 8 by key, as Go 1.24+ keeps them
// sorted), keys cut at 32 bytes, values at 64, and the truncation reported in
// the profile's comments and gspy's warnings.
func TestLabelLimits(t *testing.T) {
	hh := env(t)
	src, err := filepath.Abs(filepath.Join(hh.cpuworkSrc, "..", "labels"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "labels")
	cmd := exec.Command(hh.goBin, "build", "-o", bin, ".")
	cmd.Dir = src
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the labels workload: %v\n%s", err, b)
	}
	w := startWorkload(t, bin, "-duration=6s", "-labels=10")
	out := filepath.Join(t.TempDir(), "labels.pb.gz")
	r := hh.gspy(t, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w.pid), "--duration=3s", "-o", out)
	if r.exitCode != 0 {
		t.Fatalf("gspy failed: %s", r.stderr)
	}
	if !strings.Contains(r.stderr, "labels truncated") {
		t.Errorf("gspy's warnings do not mention truncated labels: %q", r.stderr)
	}
	p := readProfile(t, out)
	checkPprofRaw(t, out)
	wantKey0 := "k00" + strings.Repeat("K", 29)   // 32 bytes
	wantValue0 := "v00" + strings.Repeat("V", 61) // 64 bytes
	var labelled int
	for _, s := range p.Sample {
		if leaf(s) != "main.spinLabelled" {
			continue
		}
		labelled++
		if len(s.Label) != 8 {
			t.Fatalf("a sample has %d labels, want 8: %v", len(s.Label), s.Label)
		}
		for k, v := range s.Label {
			if len(k) > 32 || len(v) != 1 || len(v[0]) > 64 {
				t.Errorf("label %q=%q exceeds the limits", k, v)
			}
		}
		if got := s.Label[wantKey0]; len(got) != 1 || got[0] != wantValue0 {
			t.Errorf("label %q = %v, want the 64-byte prefix %q", wantKey0, got, wantValue0)
		}
		for _, k := range []string{"k01", "k07"} {
			if _, ok := s.Label[k]; !ok {
				t.Errorf("label %s missing: %v", k, s.Label)
			}
		}
		for _, k := range []string{"k08", "k09"} {
			if _, ok := s.Label[k]; ok {
				t.Errorf("label %s present beyond the limit of 8", k)
			}
		}
	}
	if labelled == 0 {
		t.Fatalf("no sample in main.spinLabelled")
	}
	var comment bool
	for _, c := range p.Comments {
		comment = comment || strings.Contains(c, "labels truncated")
	}
	if !comment {
		t.Errorf("the profile's comments do not report the truncation: %q", p.Comments)
	}
	w.waitDone(t, 30*time.Second)
}
