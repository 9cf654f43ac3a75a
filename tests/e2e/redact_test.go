package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// The strings the secrets workload puts in its profiles (its function, its
// file, its label value); none may leave a redacting gspyd.
var secretStrings = []string{"SecretToken", "secrets.go", "alice@example.com"}

// anonGoid is gspyd's anonymized goroutine id, computed here with Go's
// crypto/hmac: HMAC-SHA256(key, "goid" 0x00 goid-as-8-bytes-LE), first 8
// bytes big-endian, shifted right by one (a positive int64).
func anonGoid(key []byte, goid int64) int64 {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("goid\x00"))
	binary.Write(m, binary.LittleEndian, goid)
	h := int64(binary.BigEndian.Uint64(m.Sum(nil)[:8]) >> 1)
	if h == 0 {
		h = 1
	}
	return h
}

// hashedLabel is a --redact-labels value: "redacted:" and the first 8
// bytes of HMAC-SHA256(key, "label" 0 key 0 value) in hex.
func hashedLabel(key []byte, k, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("label\x00" + k + "\x00" + v))
	return "redacted:" + hex.EncodeToString(m.Sum(nil)[:8])
}

// gunzipped returns b decompressed when it is gzip, else b.
func gunzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b
	}
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkNoSecret(t *testing.T, what string, b []byte) {
	t.Helper()
	if len(b) == 0 {
		t.Errorf("%s: empty: nothing to check", what)
	}
	for _, s := range secretStrings {
		if i := bytes.Index(b, []byte(s)); i >= 0 {
			lo, hi := max(0, i-80), min(len(b), i+80)
			t.Errorf("%s holds %q: ...%q...", what, s, b[lo:hi])
		}
	}
}

func hasRedactedFrame(p *profile.Profile) bool {
	for _, l := range p.Location {
		for _, line := range l.Line {
			if line.Function.Name == "[redacted]" {
				return true
			}
		}
	}
	return false
}

var (
	goroutineHeaderRE = regexp.MustCompile(`(?m)^goroutine (\d+) \[`)
	inGoroutineRE     = regexp.MustCompile(`in goroutine (\d+)`)
	wroteRE           = regexp.MustCompile(`gspy: wrote .* \((\d+) samples`)
)

// TestRedaction: a gspyd started with --redact-functions, --redact-files,
// --redact-labels (or --drop-labels) and --anonymize-goroutine-ids lets none
// of the secrets workload's strings out, in any pull, dump, leak report,
// rendered output or /metrics; the CPU profile keeps every sample; goroutine
// ids are the HMAC of the workload's own goids, agree between profiles and
// dumps, and differ under another key.
func TestRedaction(t *testing.T) {
	hh := env(t)
	bin := hh.buildWorkload(t, "secrets", "", "")
	keys := map[string][]byte{
		"hash": []byte("key-one-0123456789abcdef0123456789"),
		"drop": []byte("key-two-0123456789abcdef0123456789"),
	}
	for _, tc := range []struct {
		name, labels string
		key, other   []byte
	}{
		{"hash", "--redact-labels=user", keys["hash"], keys["drop"]},
		{"drop", "--drop-labels=user", keys["drop"], keys["hash"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyFile := filepath.Join(t.TempDir(), "anonymize.key")
			if err := os.WriteFile(keyFile, append(tc.key, '\n'), 0o600); err != nil {
				t.Fatal(err)
			}
			d := startOwnDaemon(t, hh, "--redact-functions=handleSecret", `--redact-files=secrets\.go`,
				tc.labels, "--anonymize-goroutine-ids", "--anonymize-key-file="+keyFile,
				"--metrics-listen=127.0.0.1:0")
			w := startWorkload(t, bin, "-duration=40s", "-leaks=100")
			for _, k := range []string{"burner", "waiter", "main"} {
				if w.goids[k] == 0 {
					t.Fatalf("the workload did not say its %s goroutine's id: %v", k, w.goids)
				}
			}
			pid := fmt.Sprintf("--pid=%d", w.pid)
			dir := t.TempDir()
			run := func(args ...string) gspyResult {
				t.Helper()
				r := hh.gspyAt(t, d.addr, 60*time.Second, args...)
				if r.exitCode != 0 {
					t.Fatalf("gspy %v exited %d:\n%s", args, r.exitCode, r.stderr)
				}
				return r
			}
			// pull writes a profile to a file and returns its bytes, as a
			// user would find them (decompressed) and the sample count gspyd
			// reported for it (counted before redaction).
			pull := func(file string, args ...string) ([]byte, int64) {
				t.Helper()
				out := filepath.Join(dir, file)
				r := run(append(args, pid, "-o", out)...)
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				checkNoSecret(t, file, gunzipped(t, b))
				checkNoSecret(t, file+" (gspy's stderr)", []byte(r.stderr+"."))
				var n int64 = -1
				if m := wroteRE.FindStringSubmatch(r.stderr); m != nil {
					n, _ = strconv.ParseInt(m[1], 10, 64)
				}
				return b, n
			}
			wantUser := func(p *profile.Profile, what string) {
				t.Helper()
				routed := 0
				for _, s := range p.Sample {
					if len(s.Label["route"]) == 0 {
						continue
					}
					routed++
					users := s.Label["user"]
					switch {
					case tc.name == "drop" && len(users) != 0:
						t.Fatalf("%s: user label not dropped: %v", what, users)
					case tc.name == "hash" && (len(users) != 1 || users[0] != hashedLabel(tc.key, "user", "alice@example.com")):
						t.Fatalf("%s: user = %v, want [%s]", what, users, hashedLabel(tc.key, "user", "alice@example.com"))
					}
				}
				if routed == 0 {
					t.Errorf("%s: no sample with the workload's route label: the check above checked nothing", what)
				}
			}
			redactedLeaves := func(p *profile.Profile) int64 {
				var n int64
				for _, s := range p.Sample {
					if len(s.Location) > 0 && len(s.Location[0].Line) > 0 &&
						s.Location[0].Line[0].Function.Name == "[redacted]" {
						if fn := s.Location[0].Line[0].Function; fn.Filename != "" || s.Location[0].Line[0].Line != 0 {
							t.Errorf("a [redacted] frame keeps file %q line %d", fn.Filename, s.Location[0].Line[0].Line)
						}
						n += s.Value[0]
					}
				}
				return n
			}

			// CPU, with goroutine ids: every sample is there (gspyd counted
			// them before redacting), the burner's under its anonymized id.
			cpuBytes, cpuSamples := pull("cpu.pb.gz", "profile", "cpu", "--duration=3s", "--goroutine-ids")
			cpu, err := profile.ParseData(cpuBytes)
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			goids := map[int64]int64{}
			for _, s := range cpu.Sample {
				total += s.Value[0]
				for _, g := range s.NumLabel["goid"] {
					goids[g] += s.Value[0]
				}
			}
			if total != cpuSamples || total == 0 {
				t.Errorf("the redacted CPU profile holds %d samples, gspyd recorded %d", total, cpuSamples)
			}
			if n := redactedLeaves(cpu); n < total/4 {
				t.Errorf("%d of %d CPU samples have a [redacted] leaf; the burner should have most", n, total)
			}
			wantUser(cpu, "cpu")
			burner := anonGoid(tc.key, w.goids["burner"])
			if goids[burner] < total/4 {
				t.Errorf("the burner's anonymized goid %d has %d of %d samples; goids: %v", burner, goids[burner], total, goids)
			}
			for _, raw := range w.goids {
				if goids[raw] != 0 {
					t.Errorf("raw goid %d in the CPU profile", raw)
				}
			}
			// Under the other key (the other subtest's daemon), the same goid
			// would be another id.
			if other := anonGoid(tc.other, w.goids["burner"]); goids[other] != 0 || other == burner {
				t.Errorf("goid %d is %d under both keys", w.goids["burner"], burner)
			}
			t.Logf("cpu: %d samples (gspyd: %d), burner goid %d -> %d (%d under the other key)",
				total, cpuSamples, w.goids["burner"], burner, anonGoid(tc.other, w.goids["burner"]))

			// Block, wall and sched-latency: the waiter under its id.
			for _, typ := range []string{"block", "wall", "sched-latency"} {
				b, _ := pull(typ+".pb.gz", "profile", typ, "--duration=2s", "--goroutine-ids")
				p, err := profile.ParseData(b)
				if err != nil {
					t.Fatal(err)
				}
				if typ == "sched-latency" {
					continue
				}
				if !hasRedactedFrame(p) {
					t.Errorf("%s: no [redacted] frame", typ)
				}
				wantUser(p, typ)
				waiter := anonGoid(tc.key, w.goids["waiter"])
				seen := false
				for _, s := range p.Sample {
					for _, g := range s.NumLabel["goid"] {
						seen = seen || g == waiter
						if g == w.goids["waiter"] || g == w.goids["burner"] {
							t.Errorf("%s: raw goid %d", typ, g)
						}
					}
				}
				if !seen {
					t.Errorf("%s: the waiter's anonymized goid %d is not there", typ, waiter)
				}
			}

			// Rendered by the CLI: folded (grouped by the label) and SVG.
			folded, foldedSamples := pull("cpu.folded", "profile", "cpu", "--duration=2s", "--group-by=user")
			var foldedSum int64
			for _, line := range strings.Split(strings.TrimSpace(string(folded)), "\n") {
				n, _ := strconv.ParseInt(line[strings.LastIndexByte(line, ' ')+1:], 10, 64)
				foldedSum += n
			}
			if foldedSum != foldedSamples {
				t.Errorf("folded counts sum to %d, gspyd recorded %d", foldedSum, foldedSamples)
			}
			if !bytes.Contains(folded, []byte("[redacted]")) {
				t.Errorf("folded output has no [redacted] frame")
			}
			if svg, _ := pull("cpu.svg", "profile", "cpu", "--duration=2s"); !bytes.Contains(svg, []byte("redacted")) {
				t.Errorf("svg has no [redacted] frame")
			}

			// Dumps: text and pprof.
			dump := run("goroutines", pid).stdout
			checkNoSecret(t, "goroutine dump", []byte(dump))
			if !strings.Contains(dump, "[redacted]") {
				t.Errorf("the dump has no [redacted] frame")
			}
			dumped := map[int64]bool{}
			for _, m := range goroutineHeaderRE.FindAllStringSubmatch(dump, -1) {
				g, _ := strconv.ParseInt(m[1], 10, 64)
				dumped[g] = true
			}
			for name, raw := range w.goids {
				if !dumped[anonGoid(tc.key, raw)] {
					t.Errorf("the dump has no goroutine %d (the %s's anonymized id)", anonGoid(tc.key, raw), name)
				}
				if dumped[raw] {
					t.Errorf("the dump has the raw goid %d (%s)", raw, name)
				}
			}
			parents := map[string]bool{}
			for _, m := range inGoroutineRE.FindAllStringSubmatch(dump, -1) {
				parents[m[1]] = true
			}
			if want := strconv.FormatInt(anonGoid(tc.key, w.goids["main"]), 10); !parents[want] {
				t.Errorf("no \"in goroutine %s\" (main's anonymized id) in the dump; parents %v", want, parents)
			}
			if parents[strconv.FormatInt(w.goids["main"], 10)] {
				t.Errorf("the dump names main's raw goid as a parent")
			}
			gp, _ := pull("goroutines.pb.gz", "goroutines", "--format=pprof")
			if p, err := profile.ParseData(gp); err != nil {
				t.Errorf("the goroutine profile does not parse: %v", err)
			} else {
				wantUser(p, "goroutine profile")
			}

			// A leak report, made from dumps.
			leak := run("goroutines", pid, "--watch=5s", "--interval=1s", "--format=json")
			checkNoSecret(t, "leak report", []byte(leak.stdout))
			if !strings.Contains(leak.stdout, "[redacted]") {
				t.Errorf("the leak report has no [redacted] frame:\n%s", leak.stdout)
			}

			// A filter that could test guesses of what is hidden is refused.
			for _, f := range []string{`--filter=stack:~Secret`, `--filter=label:user=~^alice`} {
				r := hh.gspyAt(t, d.addr, 30*time.Second, "goroutines", pid, f)
				if r.exitCode == 0 || !strings.Contains(r.stderr, "redact") {
					t.Errorf("gspy goroutines %s: exit %d, stderr %q; want a refusal naming redaction", f, r.exitCode, r.stderr)
				}
			}

			// /metrics.
			resp, err := http.Get("http://" + d.metricsAddr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkNoSecret(t, "/metrics", metrics)
		})
	}
}
