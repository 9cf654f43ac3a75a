package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// goroutineCase is one build of tests/workloads/goroutines.
type goroutineCase struct {
	toolchain, ldflags string
}

func (c goroutineCase) name() string {
	n := c.toolchain
	if n == "" {
		n = "installed"
	}
	if c.ldflags != "" {
		n += "-" + strings.NewReplacer(" ", "", "-", "").Replace(c.ldflags)
	}
	return n
}

// The installed Go (slice labels, DWARF), 1.21 (map labels, first with
// parentGoid), 1.24 stripped (slice labels, no symbols, no DWARF: allgs
// found by decoding the runtime, layout from the table), 1.18 stripped
// (oldest supported) and a PIE.
var goroutineCases = []goroutineCase{
	{"", ""},
	{"", "pie"},
	{"go1.18.10", "-s -w"},
	{"go1.21.13", ""},
	{"go1.24.13", "-s -w"},
}

// TestGoroutineDump: gspy's dump of a process that parks 3250 goroutines in
// known states equals Go's own goroutine profile taken inside the process
// at the same quiescent moment: the same total, and the same count for every
// stack (function names, as debug=1 shows them) and label set.
func TestGoroutineDump(t *testing.T) {
	hh := env(t)
	for _, tc := range goroutineCases {
		t.Run(tc.name(), func(t *testing.T) {
			bin := hh.buildWorkload(t, "goroutines", tc.toolchain, tc.ldflags)
			goProfile := filepath.Join(t.TempDir(), "go-goroutines.txt")
			w := startGcwork(t, bin, "-profile="+goProfile)
			wantTotal, want := parseGoGoroutineProfile(t, goProfile)

			out := filepath.Join(t.TempDir(), "g.pb.gz")
			r := hh.gspy(t, 60*time.Second, "goroutines", fmt.Sprintf("--pid=%d", w.pid),
				"--format=pprof", "-o", out)
			if r.exitCode != 0 {
				t.Fatalf("gspy goroutines failed: %s", r.stderr)
			}
			gotTotal, got := goroutineStacks(readProfile(t, out))
			t.Logf("%s: Go's profile %d goroutines in %d groups; gspy %d in %d groups",
				w.version, wantTotal, len(want), gotTotal, len(got))
			if gotTotal != wantTotal {
				t.Errorf("total: gspy %d, Go %d", gotTotal, wantTotal)
			}
			// main is in pprof.WriteTo in Go's profile and reading stdin
			// in gspy's: one goroutine either way.
			for _, m := range []map[string]int{want, got} {
				n := 0
				for k, c := range m {
					if strings.HasSuffix(k, ";main.main") || strings.Contains(k, ";main.main;") {
						n += c
						delete(m, k)
					}
				}
				if n != 1 {
					t.Errorf("%d goroutines in main.main, want 1", n)
				}
			}
			compareCounts(t, want, got)
			if len(want) < 12 {
				t.Errorf("Go's profile has only %d groups: the workload did not start", len(want))
			}

			// The text dump: every goroutine once, labels and parents shown.
			r = hh.gspy(t, 60*time.Second, "goroutines", fmt.Sprintf("--pid=%d", w.pid))
			if r.exitCode != 0 {
				t.Fatalf("gspy goroutines failed: %s", r.stderr)
			}
			checkGoroutineText(t, r.stdout, wantTotal, tc.toolchain != "go1.18.10")
		})
	}
}

var goProfileTotal = regexp.MustCompile(`^goroutine profile: total (\d+)$`)
var goProfileCount = regexp.MustCompile(`^(\d+) @`)
var goProfileFrame = regexp.MustCompile(`^#\t0x[0-9a-f]+\t(\S+)\+0x[0-9a-f]+\t`)

// parseGoGoroutineProfile reads a debug=1 goroutine profile: the total and
// count per "labels|f1;f2;..." (leaf first, as printed).
func parseGoGoroutineProfile(t *testing.T, path string) (int, map[string]int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total := -1
	out := map[string]int{}
	count, labels := 0, ""
	var funcs []string
	flush := func() {
		if count > 0 {
			out[labels+"|"+strings.Join(funcs, ";")] += count
		}
		count, labels, funcs = 0, "", nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case goProfileTotal.MatchString(line):
			total, _ = strconv.Atoi(goProfileTotal.FindStringSubmatch(line)[1])
		case goProfileCount.MatchString(line):
			flush()
			count, _ = strconv.Atoi(goProfileCount.FindStringSubmatch(line)[1])
		case strings.HasPrefix(line, "# labels: "):
			labels = strings.TrimPrefix(line, "# labels: ")
		case goProfileFrame.MatchString(line):
			funcs = append(funcs, goProfileFrame.FindStringSubmatch(line)[1])
		}
	}
	flush()
	if total < 0 {
		t.Fatalf("%s: no total line", path)
	}
	return total, out
}

// goroutineStacks groups gspy's goroutine profile as the debug=1 text
// shows Go's: leading runtime frames and runtime.goexit left out (pprof's
// printStackRecord), labels as {"k":"v", ...}.
func goroutineStacks(p *profile.Profile) (int, map[string]int) {
	total := 0
	out := map[string]int{}
	for _, s := range p.Sample {
		var all []string
		for _, loc := range s.Location {
			for _, l := range loc.Line {
				all = append(all, l.Function.Name)
			}
		}
		funcs := shownFrames(all, false)
		if len(funcs) == 0 {
			funcs = shownFrames(all, true)
		}
		var kv []string
		for k, vs := range s.Label {
			for _, v := range vs {
				kv = append(kv, fmt.Sprintf("%q:%q", k, v))
			}
		}
		sort.Strings(kv)
		labels := ""
		if len(kv) > 0 {
			labels = "{" + strings.Join(kv, ", ") + "}"
		}
		out[labels+"|"+strings.Join(funcs, ";")] += int(s.Value[0])
		total += int(s.Value[0])
	}
	return total, out
}

func shownFrames(all []string, allFrames bool) []string {
	show := allFrames
	var out []string
	for _, name := range all {
		runtimeFrame := strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "internal/runtime/")
		if name != "runtime.goexit" && (show || !runtimeFrame) {
			show = true
			out = append(out, name)
		}
	}
	return out
}

func compareCounts(t *testing.T, want, got map[string]int) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if want[k] != got[k] {
			t.Errorf("stack %s: gspy %d goroutines, Go %d", k, got[k], want[k])
		}
	}
}

var goroutineHeader = regexp.MustCompile(`(?m)^goroutine (\d+) \[([^\]]*)\]:$`)

func checkGoroutineText(t *testing.T, text string, total int, parents bool) {
	t.Helper()
	headers := goroutineHeader.FindAllStringSubmatch(text, -1)
	if len(headers) != total {
		t.Errorf("the text dump has %d goroutines, want %d", len(headers), total)
	}
	labeled := 0
	for _, h := range headers {
		if strings.Contains(h[2], `labels:{"shard": "`) && strings.Contains(h[2], `"worker": "labeled"`) {
			labeled++
		}
	}
	if labeled != 400 {
		t.Errorf("%d goroutines show the worker labels, want 400", labeled)
	}
	// Reasons every release names alike (sync's got their own names only
	// in later ones: semacquire before).
	for _, want := range []string{"[chan receive", "[chan send", "[select", "[sleep", "[sync.Cond.Wait", "main.recurse(...)", "main.lockMutex(...)", "main.waitGroupWait(...)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text dump has no %q", want)
		}
	}
	// The spawner's 100 children: created by it, not by main.
	re := regexp.MustCompile(`(?m)^created by main\.spawner in goroutine (\d+)$`)
	if !parents {
		re = regexp.MustCompile(`(?m)^created by main\.spawner$`)
	}
	if n := len(re.FindAllString(text, -1)); n != 100 {
		t.Errorf("%d goroutines say they were created by main.spawner, want 100:\n%s", n, firstLines(text, 60))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

var waitMinutes = regexp.MustCompile(`, \d+ minutes`)

// TestGoroutineDumpFromCore: `gspy goroutines --core --exe` on a gcore of
// the workload (no daemon) prints the same dump as gspyd on the live
// process, for a plain and a stripped PIE build (the load bias comes from
// the core's NT_FILE note).
func TestGoroutineDumpFromCore(t *testing.T) {
	hh := env(t)
	gcore, err := exec.LookPath("gcore")
	if err != nil {
		t.Fatalf("gcore (Debian package gdb) is needed: %v", err)
	}
	for _, tc := range []goroutineCase{{"", ""}, {"", "pie"}} {
		t.Run(tc.name(), func(t *testing.T) {
			bin := hh.buildWorkload(t, "goroutines", tc.toolchain, tc.ldflags)
			dir := t.TempDir()
			w := startGcwork(t, bin, "-profile="+filepath.Join(dir, "go.txt"))
			live := hh.gspy(t, 60*time.Second, "goroutines", fmt.Sprintf("--pid=%d", w.pid))
			if live.exitCode != 0 {
				t.Fatalf("gspy goroutines failed: %s", live.stderr)
			}
			prefix := filepath.Join(dir, "core")
			if b, err := exec.Command(gcore, "-o", prefix, strconv.Itoa(w.pid)).CombinedOutput(); err != nil {
				t.Fatalf("gcore: %v\n%s", err, b)
			}
			core := fmt.Sprintf("%s.%d", prefix, w.pid)
			fromCore := hh.gspy(t, 60*time.Second, "goroutines", "--core="+core, "--exe="+bin)
			if fromCore.exitCode != 0 {
				t.Fatalf("gspy goroutines --core failed: %s", fromCore.stderr)
			}
			// A core has no clock: wait times are the live dump's only.
			want := waitMinutes.ReplaceAllString(live.stdout, "")
			if fromCore.stdout != want {
				t.Errorf("the core dump differs from the live one:\n%s", firstDiff(want, fromCore.stdout))
			}
			if n := len(goroutineHeader.FindAllString(fromCore.stdout, -1)); n < 3000 {
				t.Errorf("the core dump has %d goroutines", n)
			}
			os.Remove(core) // large: the Go heap's reservations
		})
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  live: %s\n  core: %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("live has %d lines, core %d", len(al), len(bl))
}
