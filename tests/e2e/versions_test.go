package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Older Go releases whose runtime keeps pprof labels in a map (<= 1.23) and
// the first that keeps them in a slice (1.24); the installed Go is covered by
// TestCPUProfileMatchesGo. Toolchains come through the module proxy.
var crossVersionToolchains = []string{"go1.21.13", "go1.23.12", "go1.24.13"}

func buildWithToolchain(t *testing.T, hh *harness, toolchain, srcDir, out string) {
	t.Helper()
	cmd := exec.Command(hh.goBin, "build", "-o", out, ".")
	cmd.Dir = srcDir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN="+toolchain, "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s with %s (needs the Go module proxy): %v\n%s", srcDir, toolchain, err, b)
	}
	v, err := exec.Command(hh.goBin, "version", out).CombinedOutput()
	if err != nil || !strings.Contains(string(v), toolchain) {
		t.Fatalf("%s was not built by %s: %s %v", out, toolchain, v, err)
	}
}

// TestCPUProfileAcrossGoVersions: goroutine ids, labels (map and slice
// layouts) and full stacks for binaries of older Go releases, whose runtime
// structs have other offsets (from DWARF here, from the table when stripped).
func TestCPUProfileAcrossGoVersions(t *testing.T) {
	hh := env(t)
	for _, tc := range crossVersionToolchains {
		for _, stripped := range []bool{false, true} {
			name := tc
			if stripped {
				name += "-stripped"
			}
			t.Run(name, func(t *testing.T) {
				bin := filepath.Join(t.TempDir(), "cpuwork")
				buildWithToolchain(t, hh, tc, hh.cpuworkSrc, bin)
				if stripped {
					if b, err := exec.Command("strip", bin).CombinedOutput(); err != nil {
						t.Fatalf("strip: %v\n%s", err, b)
					}
				}
				w := startWorkload(t, bin, "-mode=split", "-duration=6s")
				out := filepath.Join(t.TempDir(), "cpu.pb.gz")
				r := hh.gspy(t, 60*time.Second, "profile", "cpu", fmt.Sprintf("--pid=%d", w.pid),
					"--duration=3s", "--goroutine-ids", "-o", out)
				if r.exitCode != 0 {
					t.Fatalf("gspy failed: %s", r.stderr)
				}
				p := readProfile(t, out)
				checkPprofRaw(t, out)
				if got := keys(labelValues(p, "handler")); strings.Join(got, ",") != "alpha,beta" {
					t.Errorf("handler label values %v, want [alpha beta]", got)
				}
				checkGoroutineLabels(t, p, w.goids)
				// The whole stack: the frameless leaf's caller, pprof.Do, goexit.
				var whole int
				for _, s := range p.Sample {
					if leaf(s) != "main.spinAlpha" {
						continue
					}
					f := strings.Join(frames(s), ";")
					if strings.Contains(f, "main.spinAlpha;main.runSplit.func1;runtime/pprof.Do") &&
						strings.HasSuffix(f, "runtime.goexit") {
						whole++
					}
				}
				if whole == 0 {
					t.Errorf("no main.spinAlpha sample has the whole stack up to runtime.goexit")
				}
				w.waitDone(t, 30*time.Second)
			})
		}
	}
}
