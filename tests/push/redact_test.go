package push

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPushRedacted: with redaction flags, what gspyd pushes to Pyroscope and
// Parca (the raw profiles, decompressed, and the series' labels, which the
// backends turn into series names) holds none of the secrets workload's
// strings: its function, its file, its label value, even when the operator
// also put that value in a static push label. Every profile type pushed
// (the default: cpu, block, wall, heap) is checked.
func TestPushRedacted(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "secrets")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "workloads", "secrets")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the secrets workload: %v\n%s", err, out)
	}
	w := exec.Command(bin, "-duration=150s")
	stdout, err := w.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Process.Kill(); w.Wait() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.Contains(sc.Text(), `"ready"`) {
		t.Fatalf("the workload did not say ready: %q", sc.Text())
	}
	go io.Copy(io.Discard, stdout)
	pid := w.Process.Pid

	pyroStore, parcaStore := &store{}, &store{}
	pyro := startPyroscope(t, pyroStore, "127.0.0.1:0", nil)
	parca := startParca(t, parcaStore)
	startDaemon(t, "--push-pyroscope-url=http://"+pyro.addr, "--push-parca-url=http://"+parca.addr,
		"--push-interval=1s", "--push-exe="+bin, "--push-labels=user=alice@example.com",
		"--redact-functions=handleSecret", `--redact-files=secrets\.go`, "--redact-labels=user")
	count := func(s *store) int { ps, _, _ := s.snapshot(); return len(unique(ps, pid)) }
	waitFor(t, "3 profiles at each backend", 90*time.Second, func() bool {
		return count(pyroStore) >= 3 && count(parcaStore) >= 3
	})
	for _, st := range []*store{pyroStore, parcaStore} {
		ps, errs, _ := st.snapshot()
		for _, e := range errs {
			t.Error(e)
		}
		redacted := false
		types := map[string]bool{}
		for _, p := range ofPid(ps, pid) {
			types[p.labels["__name__"]] = true
			raw := p.raw
			if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
				if raw, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			var labels strings.Builder
			for k, v := range p.labels {
				labels.WriteString(k + "=" + v + "\n")
			}
			for what, b := range map[string][]byte{"profile": raw, "series labels": []byte(labels.String())} {
				for _, s := range []string{"SecretToken", "secrets.go", "alice@example.com"} {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("%s: a pushed %s holds %q", p.backend, what, s)
					}
				}
			}
			if !strings.HasPrefix(p.labels["user"], "redacted:") {
				t.Errorf("%s: series label user=%q, want a hash", p.backend, p.labels["user"])
			}
			if p.labels["pid"] != strconv.Itoa(pid) {
				t.Errorf("%s: series label pid=%q", p.backend, p.labels["pid"])
			}
			redacted = redacted || functions(&p)["[redacted]"]
			for _, s := range p.prof.Sample {
				if u := s.Label["user"]; len(u) > 0 && !strings.HasPrefix(u[0], "redacted:") {
					t.Errorf("%s: a sample's user label is %q", p.backend, u[0])
				}
			}
		}
		if !redacted {
			t.Errorf("no pushed profile has a [redacted] frame: the workload's CPU was not seen")
		}
		for _, name := range []string{"process_cpu", "block", "wall"} {
			if !types[name] {
				t.Errorf("no %s profile was pushed: its redaction is untested", name)
			}
		}
	}
}
