package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// --filter on CPU and block pulls: labels, stacks, wait reasons, negation;
// the profile says how much the filter kept; a bad filter is refused.
func TestPullFilters(t *testing.T) {
	hh := env(t)
	bin := hh.cpuwork(t, variants[0])
	w := startWorkload(t, bin, "-mode=split", "-duration=30s")
	dir := t.TempDir()
	pid := fmt.Sprintf("--pid=%d", w.pid)

	cpu := func(filter string) (map[string]int64, gspyResult) {
		out := filepath.Join(dir, "cpu.pb.gz")
		r := hh.gspy(t, time.Minute, "profile", "cpu", pid, "--duration=2s", "--filter="+filter, "-o", out)
		if r.exitCode != 0 {
			t.Fatalf("filter %q: %s", filter, r.stderr)
		}
		byHandler := map[string]int64{}
		for _, s := range readProfile(t, out).Sample {
			byHandler[strings.Join(s.Label["handler"], ",")] += s.Value[0]
		}
		return byHandler, r
	}
	got, r := cpu("label:handler=alpha")
	if got["alpha"] == 0 || len(got) != 1 {
		t.Errorf("label:handler=alpha kept samples by handler %v; want alpha only", got)
	}
	if !strings.Contains(r.stderr, `filter "label:handler=alpha" kept`) {
		t.Errorf("the pull does not say what the filter kept:\n%s", r.stderr)
	}
	got, _ = cpu(`stack:~main\.spinBeta`)
	if got["beta"] == 0 || len(got) != 1 {
		t.Errorf(`stack:~main\.spinBeta kept samples by handler %v; want beta only`, got)
	}
	got, _ = cpu("-label:handler=alpha label:handler")
	if got["beta"] == 0 || got["alpha"] != 0 || got[""] != 0 {
		t.Errorf("-label:handler=alpha label:handler kept %v; want beta only", got)
	}
	expectRPCError(t, hh.gspy(t, time.Minute, "profile", "cpu", pid, "--duration=1s", "--filter=stack:~(", "-o", filepath.Join(dir, "x.pb.gz")), "INVALID_ARGUMENT")
	expectRPCError(t, hh.gspy(t, time.Minute, "profile", "block", "--exact", pid, "--duration=1s", "--filter=colour:red", "-o", filepath.Join(dir, "x.pb.gz")), "INVALID_ARGUMENT")

	// Block: by wait reason and by scenario label, with a quoted value.
	bw := startGcwork(t, hh.buildWorkload(t, "blockwork", "", ""), "-waits=10")
	out := filepath.Join(dir, "block.pb.gz")
	res := hh.pullInBackground(t, hh.addr, "profile", "block", "--exact", fmt.Sprintf("--pid=%d", bw.pid), "--duration=60s",
		`--filter=reason:"chan receive" label:scenario status:waiting`, "-o", out)
	waitUntilProbed(t, hh, hh.addr, bw.pid, "block")
	fmt.Fprintln(bw.stdin, "go")
	bw.next(t, time.Minute)
	bw.cmd.Wait()
	bw.waited = true
	if r := <-res; r.exitCode != 0 {
		t.Fatalf("block pull with a filter: %s", r.stderr)
	}
	for _, s := range readProfile(t, out).Sample {
		if got := strings.Join(s.Label["wait_reason"], ","); got != "chan receive" {
			t.Errorf("the reason filter let a %q wait through", got)
		}
		if got := strings.Join(s.Label["scenario"], ","); got != "chan" {
			t.Errorf("a wait of scenario %q passed label:scenario with reason chan receive", got)
		}
	}
}
