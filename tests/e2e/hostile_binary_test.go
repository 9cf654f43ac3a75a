package e2e

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Binaries and cores are hostile input: a tenant owns its executable and
// can truncate it once its process exits, or ship DWARF that inflates to a
// gigabyte. Each test here ends with gspyd alive and answering, and the
// CLI's errors clear.

// vmKiB reads a VmRSS/VmHWM-style field (KiB) of /proc/PID/status.
func vmKiB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading gspyd's status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			v, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// daemonAlive fails the test when gspyd has exited (a crash: SIGBUS, OOM)
// and checks that it still answers `gspy targets`.
func daemonAlive(t *testing.T, hh *harness, d *ownDaemon, when string) {
	t.Helper()
	select {
	case <-d.done:
		t.Fatalf("%s: gspyd exited (%v); its log:\n%s", when, d.cmd.ProcessState, d.log.String())
	default:
	}
	if r := hh.gspyAt(t, d.addr, 30*time.Second, "targets"); r.exitCode != 0 {
		t.Fatalf("%s: gspy targets: exit %d; stderr:\n%s", when, r.exitCode, r.stderr)
	}
}

// stopAndTruncate ends the stress workload and then truncates its
// executable (which the kernel allows only once no process runs it) to
// `size` bytes: what a tenant can do to the file gspyd has parsed.
func stopAndTruncate(t *testing.T, w *gcworkProc, path string, size int64) {
	t.Helper()
	fmt.Fprintln(w.stdin, "stop")
	finishStress(t, w, time.Minute)
	if err := os.Truncate(path, size); err != nil {
		t.Fatalf("truncating %s: %v", path, err)
	}
}

// TestHostileBinaryTruncatedOnDisk: a CPU pull of a process whose
// executable is truncated on disk after the process exits, mid-pull; then
// a goroutine dump and a CPU pull of another copy still running, and the
// exited pid. gspyd used to mmap binaries and died of SIGBUS when the pull
// symbolized its samples.
func TestHostileBinaryTruncatedOnDisk(t *testing.T) {
	hh := env(t)
	stress := hh.buildWorkload(t, "stress", "", "")
	d := startOwnDaemon(t, hh)
	dir := t.TempDir()
	for _, size := range []int64{0, 4096, 64 << 10} {
		path := filepath.Join(dir, fmt.Sprintf("app-%d", size))
		copyFile(t, stress, path)
		w := startGcwork(t, path, "-rounds=0", "-goroutines=1000")
		pid := fmt.Sprintf("--pid=%d", w.pid)
		// gspyd parses the binary when the pull starts, and symbolizes the
		// samples when it ends: after the file is cut.
		out := filepath.Join(dir, fmt.Sprintf("cpu-%d.pb.gz", size))
		res := hh.pullInBackground(t, d.addr, "profile", "cpu", pid, "--duration=4s", "-o", out)
		time.Sleep(1500 * time.Millisecond)
		stopAndTruncate(t, w, path, size)
		r := <-res
		checkNoCrash(t, r)
		if r.exitCode == 1 && gspyErrorLine.FindStringSubmatch(r.stderr) == nil {
			t.Errorf("truncated to %d: the pull failed without a \"gspy: CODE: message\" line:\n%s", size, r.stderr)
		}
		daemonAlive(t, hh, d, fmt.Sprintf("after a pull of a binary truncated to %d bytes", size))
		// The exited pid: a clear NOT_FOUND, not a crash.
		r = hh.gspyAt(t, d.addr, 30*time.Second, "goroutines", pid)
		if r.exitCode != 1 || !strings.Contains(r.stderr, "NOT_FOUND") {
			t.Errorf("goroutines of the exited pid: exit %d, want 1 with NOT_FOUND; stderr:\n%s", r.exitCode, r.stderr)
		}
	}
	// A process still running its (whole) copy is profiled as before.
	live := filepath.Join(dir, "live")
	copyFile(t, stress, live)
	w := startGcwork(t, live, "-rounds=0", "-goroutines=1000")
	pid := fmt.Sprintf("--pid=%d", w.pid)
	out := filepath.Join(dir, "live.pb.gz")
	if r := hh.gspyAt(t, d.addr, time.Minute, "profile", "cpu", pid, "--duration=1s", "-o", out); r.exitCode != 0 {
		t.Fatalf("cpu pull of a live copy: exit %d; stderr:\n%s", r.exitCode, r.stderr)
	}
	if !hasFunction(readProfile(t, out), "main.recurse") {
		t.Errorf("the live copy's CPU profile lacks main.recurse")
	}
	if r := hh.gspyAt(t, d.addr, time.Minute, "goroutines", pid); r.exitCode != 0 || !strings.Contains(r.stdout, "main.") {
		t.Errorf("goroutine dump of a live copy: exit %d; stderr:\n%s", r.exitCode, r.stderr)
	}
	stopAndTruncate(t, w, live, 0)
	daemonAlive(t, hh, d, "at the end")
}

// TestHostileBinaryTruncatedOnDiskPush: the same in continuous mode, whose
// profiles are symbolized at each push, after the process exited and its
// file was cut. gspyd stays up and goes on pushing.
func TestHostileBinaryTruncatedOnDiskPush(t *testing.T) {
	hh := env(t)
	stress := hh.buildWorkload(t, "stress", "", "")
	var pushes atomic.Int64
	// Any answer will do: the push is built (and symbolized) before it is
	// sent.
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		pushes.Add(1)
		w.Header().Set("Content-Type", "application/proto")
		w.WriteHeader(http.StatusOK)
	}))
	defer sink.Close()
	d := startOwnDaemon(t, hh, "--push-pyroscope-url="+sink.URL, "--push-interval=1s")
	dir := t.TempDir()
	for i, size := range []int64{0, 4096} {
		path := filepath.Join(dir, fmt.Sprintf("app-%d", i))
		copyFile(t, stress, path)
		w := startGcwork(t, path, "-rounds=0", "-goroutines=1000")
		time.Sleep(2500 * time.Millisecond) // profiled, not yet pushed whole
		stopAndTruncate(t, w, path, size)
		before := pushes.Load()
		time.Sleep(3 * time.Second) // pushes of the exited process
		daemonAlive(t, hh, d, fmt.Sprintf("after pushes of a binary truncated to %d bytes", size))
		t.Logf("truncated to %d: %d pushes before, %d after", size, before, pushes.Load())
	}
	// Still pushing for a live process.
	live := filepath.Join(dir, "live")
	copyFile(t, stress, live)
	w := startGcwork(t, live, "-rounds=0", "-goroutines=1000")
	before := pushes.Load()
	deadline := time.Now().Add(15 * time.Second)
	for pushes.Load() == before && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if pushes.Load() == before {
		t.Errorf("no push for a live process after the truncated binaries")
	}
	stopAndTruncate(t, w, live, 0)
	daemonAlive(t, hh, d, "at the end")
}

// dwarfBomb writes a copy of the Go binary `src` whose .debug_info is a
// zlib stream (SHF_COMPRESSED) inflating to `inflated` bytes: a 4 KiB
// random block repeated, so the ratio (about 100:1) passes any check on the
// compression ratio. The program still runs: DWARF is never loaded.
func dwarfBomb(t *testing.T, src, dst string, inflated int64) int {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	idx := -1
	for i, s := range f.Sections {
		if s.Name == ".debug_info" {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("%s has no .debug_info", src)
	}
	var comp bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&comp, 2) // fast on repeats; ~100:1
	block := make([]byte, 4<<10)
	rand.New(rand.NewSource(1)).Read(block)
	for n := int64(0); n < inflated; n += int64(len(block)) {
		zw.Write(block)
	}
	zw.Close()
	for len(data)%8 != 0 {
		data = append(data, 0)
	}
	off := len(data)
	var chdr [24]byte                          // Elf64_Chdr: type, reserved, size, addralign
	binary.LittleEndian.PutUint32(chdr[0:], 1) // ELFCOMPRESS_ZLIB
	binary.LittleEndian.PutUint64(chdr[8:], uint64(inflated))
	binary.LittleEndian.PutUint64(chdr[16:], 1)
	data = append(data, chdr[:]...)
	data = append(data, comp.Bytes()...)
	shoff := binary.LittleEndian.Uint64(data[0x28:])
	shentsize := uint64(binary.LittleEndian.Uint16(data[0x3a:]))
	sh := shoff + uint64(idx)*shentsize
	flags := binary.LittleEndian.Uint64(data[sh+8:])
	binary.LittleEndian.PutUint64(data[sh+8:], flags|uint64(elf.SHF_COMPRESSED))
	binary.LittleEndian.PutUint64(data[sh+24:], uint64(off))
	binary.LittleEndian.PutUint64(data[sh+32:], uint64(len(chdr)+comp.Len()))
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return comp.Len()
}

// TestHostileBinaryDwarfBomb: a Go program whose compressed .debug_info
// inflates to 1 GiB. gspyd refuses to inflate it (a cap on decompressed
// DWARF), falls back to the generated layout table, and profiles the
// process: its peak RSS grows by under 128 MiB and the CLI answers within
// seconds. It used to go from ~55 MB to over 1 GB.
func TestHostileBinaryDwarfBomb(t *testing.T) {
	hh := env(t)
	stress := hh.buildWorkload(t, "stress", "", "")
	bomb := filepath.Join(t.TempDir(), "bomb")
	compressed := dwarfBomb(t, stress, bomb, 1<<30)
	t.Logf("bomb: .debug_info of %d compressed bytes inflating to 1 GiB", compressed)
	d := startOwnDaemon(t, hh)
	daemonAlive(t, hh, d, "before the bomb")
	time.Sleep(time.Second)
	rssBefore := vmKiB(t, d.pid, "VmRSS")
	w := startGcwork(t, bomb, "-rounds=0", "-goroutines=1000")
	pid := fmt.Sprintf("--pid=%d", w.pid)
	r := hh.gspyAt(t, d.addr, time.Minute, "targets")
	if r.exitCode != 0 {
		t.Fatalf("gspy targets with the bomb running: exit %d; stderr:\n%s", r.exitCode, r.stderr)
	}
	if r.elapsed > 10*time.Second {
		t.Errorf("gspy targets took %v with the bomb running, want seconds", r.elapsed)
	}
	out := filepath.Join(t.TempDir(), "cpu.pb.gz")
	r = hh.gspyAt(t, d.addr, time.Minute, "profile", "cpu", pid, "--duration=1s", "-o", out)
	if r.exitCode != 0 {
		t.Fatalf("cpu pull of the bomb: exit %d; stderr:\n%s", r.exitCode, r.stderr)
	}
	if !hasFunction(readProfile(t, out), "main.recurse") {
		t.Errorf("the bomb's CPU profile lacks main.recurse")
	}
	if r := hh.gspyAt(t, d.addr, time.Minute, "goroutines", pid); r.exitCode != 0 {
		t.Errorf("goroutine dump of the bomb (layout from the table): exit %d; stderr:\n%s", r.exitCode, r.stderr)
	}
	daemonAlive(t, hh, d, "after the bomb")
	peak := vmKiB(t, d.pid, "VmHWM")
	growth := peak - rssBefore
	t.Logf("gspyd RSS %d KiB before, peak %d KiB after: +%d MiB", rssBefore, peak, growth>>10)
	if growth > 128<<10 {
		t.Errorf("gspyd's peak RSS grew by %d MiB with the DWARF bomb, want < 128 MiB", growth>>10)
	}
	fmt.Fprintln(w.stdin, "stop")
	finishStress(t, w, time.Minute)
}

// goroutinesCore takes a core of a running goroutines workload (removed when
// the test ends): the workload's binary, the core's path and its bytes.
func goroutinesCore(t *testing.T, hh *harness) (bin, core string, data []byte) {
	t.Helper()
	bin = hh.buildWorkload(t, "goroutines", "", "")
	w := startGcwork(t, bin, "-profile="+filepath.Join(t.TempDir(), "go.txt"))
	core = gcoreOf(t, w.pid)
	t.Cleanup(func() { os.Remove(core) })
	data, err := os.ReadFile(core)
	if err != nil {
		t.Fatal(err)
	}
	return bin, core, data
}

// TestGoroutineBadInputCoreTruncatedDuringDump: the core is cut while gspy
// reads it, at random moments. gspy used to map the core and died of SIGBUS;
// now a dump either finishes or fails with a clear error.
func TestGoroutineBadInputCoreTruncatedDuringDump(t *testing.T) {
	hh := env(t)
	bin, orig, data := goroutinesCore(t, hh)
	core := orig + ".cut"
	defer os.Remove(core)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := 0; i < 8; i++ {
		if err := os.WriteFile(core, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// gspy maps nothing any more; before, a cut after it had mapped the
		// core (its start-up takes ~100 ms) and before it was done read
		// past the new end and raised SIGBUS.
		delay := time.Duration(150+rng.Intn(1500)) * time.Millisecond
		cut := int64(rng.Intn(len(data)/2)) + 4096
		go func() {
			time.Sleep(delay)
			os.Truncate(core, cut)
		}()
		r := hh.gspy(t, 60*time.Second, "goroutines", "--core="+core, "--exe="+bin)
		checkNoCrash(t, r)
		if r.exitCode == 1 && gspyErrorLine.FindStringSubmatch(r.stderr) == nil {
			t.Errorf("cut at %d after %v: exit 1 without a \"gspy: CODE: message\" line:\n%s", cut, delay, r.stderr)
		}
		time.Sleep(delay) // the truncation happened before the next copy
	}
}

// TestGoroutineBadInputCorruptCore: a real core with bytes of its program
// headers and notes overwritten at random: every run ends in a dump (maybe
// partial) or a clear error, within the deadline.
func TestGoroutineBadInputCorruptCore(t *testing.T) {
	hh := env(t)
	bin, orig, data := goroutinesCore(t, hh)
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	// Program headers and the note segment: where offsets and sizes live.
	hot := [][2]int64{{0x40, 0x40 + 56*int64(len(f.Progs))}}
	for _, p := range f.Progs {
		if p.Type == elf.PT_NOTE {
			hot = append(hot, [2]int64{int64(p.Off), int64(p.Off + p.Filesz)})
		}
	}
	core := orig + ".corrupt"
	defer os.Remove(core)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 8; i++ {
		bad := append([]byte(nil), data...)
		for j := 0; j < 64; j++ {
			r := hot[rng.Intn(len(hot))]
			if r[1] <= r[0] {
				continue
			}
			at := r[0] + rng.Int63n(r[1]-r[0])
			bad[at] = byte(rng.Intn(256))
		}
		if err := os.WriteFile(core, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		r := hh.gspy(t, 60*time.Second, "goroutines", "--core="+core, "--exe="+bin)
		checkNoCrash(t, r)
		if r.exitCode == 1 && gspyErrorLine.FindStringSubmatch(r.stderr) == nil {
			t.Errorf("corrupt core %d: exit 1 without a \"gspy: CODE: message\" line:\n%s", i, r.stderr)
		}
		if r.elapsed > 20*time.Second {
			t.Errorf("corrupt core %d: %v, want seconds", i, r.elapsed)
		}
	}
}
