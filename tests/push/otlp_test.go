package push

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/xconsumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pprofile"
	"go.opentelemetry.io/collector/pdata/pprofile/pprofileotlp"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/collector/receiver/xreceiver"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// otlpStore keeps what the Collector's OTLP receiver handed its consumer.
type otlpStore struct {
	mu      sync.Mutex
	batches []pprofile.Profiles
}

func (s *otlpStore) snapshot() []pprofile.Profiles {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pprofile.Profiles(nil), s.batches...)
}

// startCollectorOTLP runs the OpenTelemetry Collector's own OTLP receiver
// (go.opentelemetry.io/collector/receiver/otlpreceiver), made by its
// factory as a Collector makes it from `receivers: otlp: protocols: grpc:`,
// with a profiles consumer that records what it decodes. It returns the
// gRPC address it listens on.
func startCollectorOTLP(t *testing.T, st *otlpStore) string {
	t.Helper()
	// The receiver binds its configured endpoint itself: a port free now.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	factory := otlpreceiver.NewFactory()
	cfg := factory.CreateDefaultConfig().(*otlpreceiver.Config)
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = addr
	consumer, err := xconsumer.NewProfiles(func(_ context.Context, pd pprofile.Profiles) error {
		st.mu.Lock()
		defer st.mu.Unlock()
		st.batches = append(st.batches, pd)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := factory.(xreceiver.Factory).CreateProfiles(context.Background(),
		receivertest.NewNopSettings(factory.Type()), cfg, consumer)
	if err != nil {
		t.Fatalf("otlpreceiver: %v", err)
	}
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatalf("otlpreceiver: start: %v", err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	return addr
}

// tap forwards TCP connections to a target and keeps every byte the client
// sent, so that the test can read gspyd's requests as they went on the
// wire.
type tap struct {
	addr   string
	mu     sync.Mutex
	client []*bytes.Buffer
}

func startTap(t *testing.T, target string) *tap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tap{addr: ln.Addr().String()}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			buf := &lockedBuffer{mu: &p.mu}
			p.mu.Lock()
			p.client = append(p.client, &buf.b)
			p.mu.Unlock()
			go func() { io.Copy(io.MultiWriter(s, buf), c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// wireRequest is one gRPC request as the client sent it.
type wireRequest struct {
	headers map[string]string // HPACK-decoded: :path, authorization, ...
	body    []byte            // the message
}

// grpcRequests reads the gRPC requests the clients sent: HTTP/2 frames
// (golang.org/x/net/http2's framer, headers decoded by its HPACK), the DATA
// of each stream, then gRPC's length-prefixed messages.
func (p *tap) grpcRequests(t *testing.T) []wireRequest {
	t.Helper()
	p.mu.Lock()
	var conns [][]byte
	for _, b := range p.client {
		conns = append(conns, append([]byte(nil), b.Bytes()...))
	}
	p.mu.Unlock()
	var out []wireRequest
	for _, c := range conns {
		if !bytes.HasPrefix(c, []byte(http2.ClientPreface)) {
			t.Fatalf("a connection does not start with the HTTP/2 preface: %q", c[:min(len(c), 32)])
		}
		fr := http2.NewFramer(nil, bytes.NewReader(c[len(http2.ClientPreface):]))
		fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		streams := map[uint32][]byte{}
		headers := map[uint32]map[string]string{}
		var order []uint32
		for {
			f, err := fr.ReadFrame()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break // the last frame may be cut when gspyd exits
			}
			if err != nil {
				t.Fatalf("HTTP/2 frames: %v", err)
			}
			if h, ok := f.(*http2.MetaHeadersFrame); ok && headers[h.StreamID] == nil {
				headers[h.StreamID] = map[string]string{}
				for _, hf := range h.Fields {
					headers[h.StreamID][hf.Name] = hf.Value
				}
			}
			if d, ok := f.(*http2.DataFrame); ok {
				if _, seen := streams[d.StreamID]; !seen {
					order = append(order, d.StreamID)
				}
				streams[d.StreamID] = append(streams[d.StreamID], d.Data()...)
			}
		}
		for _, id := range order {
			b := streams[id]
			for len(b) >= 5 {
				compressed, n := b[0], binary.BigEndian.Uint32(b[1:5])
				if compressed != 0 {
					t.Fatalf("a compressed gRPC message: the byte check below needs plain ones")
				}
				if uint32(len(b)-5) < n {
					break
				}
				out = append(out, wireRequest{headers: headers[id], body: b[5 : 5+n]})
				b = b[5+n:]
			}
		}
	}
	return out
}

// frameKey names a pprof line as the OTLP one is named below:
// function file:line.
func frameKey(name, file string, line int64) string {
	return fmt.Sprintf("%s %s:%d", name, file, line)
}

// pprofTotals: value `i` summed by stack (leaf first, inlined frames
// included), zero sums left out (gspyd sends no zero-valued OTLP samples).
func pprofTotals(p *profile.Profile, i int) map[string]int64 {
	out := map[string]int64{}
	for _, s := range p.Sample {
		var frames []string
		for _, l := range s.Location {
			for _, line := range l.Line {
				frames = append(frames, frameKey(line.Function.Name, line.Function.Filename, line.Line))
			}
		}
		out[strings.Join(frames, ";")] += s.Value[i]
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	return out
}

// otlpProfile is one OTLP profile as the Collector decoded it, read through
// its request's dictionary.
type otlpProfile struct {
	resource pcommon.Map
	dict     pprofile.ProfilesDictionary
	p        pprofile.Profile
}

func (o otlpProfile) str(i int32) string { return o.dict.StringTable().At(int(i)) }

func (o otlpProfile) id() string {
	id := o.p.ProfileID()
	return hex.EncodeToString(id[:])
}

func (o otlpProfile) sampleType() string {
	return o.str(o.p.SampleType().TypeStrindex()) + "/" + o.str(o.p.SampleType().UnitStrindex())
}

func (o otlpProfile) periodType() string {
	return o.str(o.p.PeriodType().TypeStrindex()) + "/" + o.str(o.p.PeriodType().UnitStrindex())
}

func (o otlpProfile) pid() int64 {
	v, _ := o.resource.Get("process.pid")
	return v.Int()
}

// frames of a sample's stack, leaf first, as frameKey names them; an error
// for an index out of its table.
func (o otlpProfile) frames(s pprofile.Sample) ([]string, error) {
	d := o.dict
	if int(s.StackIndex()) >= d.StackTable().Len() {
		return nil, fmt.Errorf("stack_index %d of %d", s.StackIndex(), d.StackTable().Len())
	}
	var out []string
	for _, li := range d.StackTable().At(int(s.StackIndex())).LocationIndices().AsRaw() {
		if li <= 0 || int(li) >= d.LocationTable().Len() {
			return nil, fmt.Errorf("location index %d of %d", li, d.LocationTable().Len())
		}
		lines := d.LocationTable().At(int(li)).Lines()
		for j := 0; j < lines.Len(); j++ {
			fi := lines.At(j).FunctionIndex()
			if fi <= 0 || int(fi) >= d.FunctionTable().Len() {
				return nil, fmt.Errorf("function index %d of %d", fi, d.FunctionTable().Len())
			}
			f := d.FunctionTable().At(int(fi))
			n, file := f.NameStrindex(), f.FilenameStrindex()
			if int(n) >= d.StringTable().Len() || int(file) >= d.StringTable().Len() {
				return nil, fmt.Errorf("string index %d/%d of %d", n, file, d.StringTable().Len())
			}
			out = append(out, frameKey(o.str(n), o.str(file), lines.At(j).Line()))
		}
	}
	return out, nil
}

func (o otlpProfile) attributes(s pprofile.Sample) map[string]string {
	out := map[string]string{}
	for _, a := range s.AttributeIndices().AsRaw() {
		kv := o.dict.AttributeTable().At(int(a))
		out[o.str(kv.KeyStrindex())] = kv.Value().AsString()
	}
	return out
}

func (o otlpProfile) totals(t *testing.T) map[string]int64 {
	out := map[string]int64{}
	for i := 0; i < o.p.Samples().Len(); i++ {
		s := o.p.Samples().At(i)
		frames, err := o.frames(s)
		if err != nil {
			t.Errorf("otlp profile %s: %v", o.id(), err)
			continue
		}
		for _, v := range s.Values().AsRaw() {
			out[strings.Join(frames, ";")] += v
		}
	}
	return out
}

func flatten(batches []pprofile.Profiles) []otlpProfile {
	var out []otlpProfile
	for _, pd := range batches {
		for i := 0; i < pd.ResourceProfiles().Len(); i++ {
			rp := pd.ResourceProfiles().At(i)
			for j := 0; j < rp.ScopeProfiles().Len(); j++ {
				sp := rp.ScopeProfiles().At(j)
				for k := 0; k < sp.Profiles().Len(); k++ {
					out = append(out, otlpProfile{resource: rp.Resource().Attributes(), dict: pd.Dictionary(), p: sp.Profiles().At(k)})
				}
			}
		}
	}
	return out
}

// otlpID: the OTLP profile id gspyd gives sample type `i` of the pprof it
// pushed with Pyroscope ID `id` (a UUID): its 16 bytes, the last one XORed
// with i.
func otlpID(t *testing.T, id string, i int) string {
	b, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(b) != 16 {
		t.Fatalf("Pyroscope ID %q is no UUID", id)
	}
	b[15] ^= byte(i)
	return hex.EncodeToString(b)
}

// TestPushOTLP: gspyd pushes to the OpenTelemetry Collector's own OTLP
// receiver and to Pyroscope at once. blockwork (waits in known functions,
// and a spinning goroutine), heapwork (retains and churns memory) and the
// secrets workload run; every profile type gspyd pushes (cpu, block, wall,
// heap) reaches the Collector, decoded by its pdata without error, one
// OTLP profile per pprof sample type with the sample type, period type and
// period of the pprof, the time window, the workload's own functions with
// file and line, the pprof labels as sample attributes, resource attributes
// by the semantic conventions, and per stack exactly the totals of the
// pprof Pyroscope got for the same profile. With --redact-functions and
// --redact-files, the secrets workload's names appear nowhere in the raw
// requests, as they went on the wire, and each request went to
// ProfilesService/Export with the bearer token of --push-bearer-token-file.
func TestPushOTLP(t *testing.T) {
	blockworkBin := buildWorkload(t, "blockwork", "")
	heapworkBin := buildWorkload(t, "heapwork", "")
	secretsBin := buildWorkload(t, "secrets", "")

	otlpSt := &otlpStore{}
	wire := startTap(t, startCollectorOTLP(t, otlpSt))
	pyroStore := &store{}
	pyro := startPyroscope(t, pyroStore, "127.0.0.1:0", nil)
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("otlp-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--push-bearer-token-file="+token, "--push-pyroscope-url=http://"+pyro.addr, "--push-otlp-url=http://"+wire.addr,
		"--push-interval=1s", "--push-exe="+blockworkBin+","+heapworkBin+","+secretsBin,
		"--push-labels=user=alice@example.com", "--redact-functions=handleSecret",
		`--redact-files=secrets\.go`, "--redact-labels=user")

	heap := startProc(t, heapworkBin, "-out="+filepath.Join(t.TempDir(), "own.pb.gz"), "-churn=2s")
	block := startProc(t, blockworkBin, "-for=3s", "-wait=25ms", "-spin=3s")
	secrets := startProc(t, secretsBin, "-duration=60s")
	waitFor(t, "gspyd to watch the 3 workloads", 20*time.Second, func() bool {
		return d.metric(t, "gspy_continuous_processes") == 3
	})
	io.WriteString(heap.stdin, "go\n")
	io.WriteString(block.stdin, "go\n")
	block.expect(t, "done", 30*time.Second)
	heap.expect(t, "churned", 30*time.Second)
	time.Sleep(1500 * time.Millisecond) // a cut after the churn's last GC
	heap.cmd.Process.Signal(syscall.SIGTERM)
	secrets.cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, "the last profiles", 30*time.Second, func() bool {
		return d.metric(t, "gspy_continuous_processes") == 0 &&
			d.metric(t, "gspy_push_queue_profiles", "backend=pyroscope") == 0 &&
			d.metric(t, "gspy_push_queue_profiles", "backend=otlp") == 0
	})
	time.Sleep(200 * time.Millisecond) // the response of the last request
	pushedOTLP := d.metric(t, "gspy_push_profiles_total", "backend=otlp")
	pushedPyro := d.metric(t, "gspy_push_profiles_total", "backend=pyroscope")
	if errs := d.metric(t, "gspy_push_request_errors_total", "backend=otlp"); errs != 0 {
		t.Errorf("%v OTLP requests failed: %s", errs, d.output())
	}
	if pushedOTLP != pushedPyro || pushedOTLP == 0 {
		t.Errorf("profiles pushed: %v to OTLP, %v to Pyroscope: want the same, nonzero", pushedOTLP, pushedPyro)
	}
	d.stop(t)

	pyroAll, pyroErrs, _ := pyroStore.snapshot()
	for _, e := range pyroErrs {
		t.Error(e)
	}
	batches := otlpSt.snapshot()
	all := flatten(batches)
	byID := map[string]otlpProfile{}
	for _, o := range all {
		if _, dup := byID[o.id()]; dup {
			t.Errorf("two OTLP profiles with id %s", o.id())
		}
		byID[o.id()] = o
	}
	t.Logf("the Collector decoded %d requests: %d OTLP profiles; Pyroscope got %d pprofs", len(batches), len(all), len(pyroAll))

	// Every pprof Pyroscope got is at the Collector too, one OTLP profile
	// per sample type, with the same stacks and values.
	wantTypes := map[string]string{ // __name__/sample type -> period type
		"process_cpu/samples/count": "cpu/nanoseconds", "process_cpu/cpu/nanoseconds": "cpu/nanoseconds",
		"block/contentions/count": "contentions/count", "block/delay/nanoseconds": "contentions/count",
		"wall/samples/count": "wall/nanoseconds", "wall/wall/nanoseconds": "wall/nanoseconds",
		"memory/alloc_objects/count": "space/bytes", "memory/alloc_space/bytes": "space/bytes",
		"memory/inuse_objects/count": "space/bytes", "memory/inuse_space/bytes": "space/bytes",
		"goroutines/goroutine/count": "goroutine/count",
	}
	seen := map[string]int{}
	matched := 0
	for i := range pyroAll {
		r := &pyroAll[i]
		for si, st := range r.prof.SampleType {
			kind := r.labels["__name__"] + "/" + st.Type + "/" + st.Unit
			o, ok := byID[otlpID(t, r.id, si)]
			if !ok {
				t.Errorf("%s of pid %s (Pyroscope ID %s): no OTLP profile", kind, r.labels["pid"], r.id)
				continue
			}
			matched++
			seen[kind]++
			if _, known := wantTypes[kind]; !known {
				t.Errorf("an unexpected profile type %s", kind)
			}
			if got := o.sampleType(); got != st.Type+"/"+st.Unit {
				t.Errorf("%s: OTLP sample type %s", kind, got)
			}
			if got, want := o.periodType(), r.prof.PeriodType.Type+"/"+r.prof.PeriodType.Unit; got != want || got != wantTypes[kind] {
				t.Errorf("%s: OTLP period type %s, the pprof's %s, want %s", kind, got, want, wantTypes[kind])
			}
			if o.p.Period() != r.prof.Period || o.p.Period() <= 0 {
				t.Errorf("%s: OTLP period %d, the pprof's %d", kind, o.p.Period(), r.prof.Period)
			}
			if int64(o.p.Time()) != r.prof.TimeNanos || int64(o.p.DurationNano()) != r.prof.DurationNanos || r.prof.TimeNanos == 0 {
				t.Errorf("%s: OTLP window %d+%d, the pprof's %d+%d", kind, o.p.Time(), o.p.DurationNano(), r.prof.TimeNanos, r.prof.DurationNanos)
			}
			for k, want := range map[string]string{"service.name": r.labels["service_name"], "process.pid": r.labels["pid"],
				"process.executable.path": r.labels["exe"], "process.executable.name": filepath.Base(r.labels["exe"])} {
				if v, ok := o.resource.Get(k); !ok || v.AsString() != want || want == "" {
					t.Errorf("%s: resource attribute %s = %q, want %q", kind, k, v.AsString(), want)
				}
			}
			if v, _ := o.resource.Get("process.pid"); v.Type() != pcommon.ValueTypeInt {
				t.Errorf("%s: process.pid is a %s, want an int", kind, v.Type())
			}
			want, got := pprofTotals(r.prof, si), o.totals(t)
			if len(want) == 0 && len(got) == 0 && !strings.HasPrefix(kind, "memory/") {
				t.Errorf("%s: an empty profile", kind)
			}
			if fmt.Sprint(want) != fmt.Sprint(got) {
				t.Errorf("%s of pid %s: per-stack totals differ\nOTLP:    %v\nPyroscope: %v", kind, r.labels["pid"], got, want)
			}
		}
	}
	if matched != len(all) {
		t.Errorf("%d OTLP profiles, %d match a pprof Pyroscope got", len(all), matched)
	}
	for kind := range wantTypes {
		if seen[kind] == 0 {
			t.Errorf("no %s profile reached the Collector", kind)
		}
	}
	var kinds []string
	for k, n := range seen {
		kinds = append(kinds, fmt.Sprintf("%s x%d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("OTLP profiles matched to Pyroscope's:\n  %s", strings.Join(kinds, "\n  "))

	// The workloads' own functions, with file and line, and their labels as
	// sample attributes.
	find := func(pid int, sampleType, fn, file string, attrs map[string]string) bool {
		for _, o := range all {
			if o.pid() != int64(pid) || o.sampleType() != sampleType {
				continue
			}
			for i := 0; i < o.p.Samples().Len(); i++ {
				s := o.p.Samples().At(i)
				frames, _ := o.frames(s)
				a := o.attributes(s)
				ok := true
				for k, v := range attrs {
					ok = ok && a[k] == v
				}
				for _, f := range frames {
					name, where, _ := strings.Cut(f, " ")
					file2, line, _ := strings.Cut(where, ":")
					// A redacted frame has no file (file ""): no line either.
					if ok && strings.HasPrefix(name, fn) && strings.HasSuffix(file2, file) && (line != "0" || file == "") {
						return true
					}
				}
			}
		}
		return false
	}
	for _, c := range []struct {
		pid           int
		typ, fn, file string
		attrs         map[string]string
	}{
		{block.pid, "cpu/nanoseconds", "main.main.func", "blockwork/main.go", map[string]string{"scenario": "spin"}},
		{block.pid, "delay/nanoseconds", "main.chanReceive", "blockwork/main.go", map[string]string{"scenario": "chan"}},
		{block.pid, "delay/nanoseconds", "main.mutexLock", "blockwork/main.go", map[string]string{"scenario": "mutex"}},
		{block.pid, "wall/nanoseconds", "main.sleep", "blockwork/main.go", map[string]string{"scenario": "sleep", "state": "waiting"}},
		{heap.pid, "inuse_space/bytes", "main.retainBig", "heapwork/main.go", nil},
		{heap.pid, "alloc_space/bytes", "main.churnLoop", "heapwork/main.go", nil},
		{secrets.pid, "cpu/nanoseconds", "[redacted]", "", nil},
	} {
		if !find(c.pid, c.typ, c.fn, c.file, c.attrs) {
			t.Errorf("pid %d: no %s sample in %s (%s) with %v", c.pid, c.typ, c.fn, c.file, c.attrs)
		}
	}

	// Redaction, on the wire: each request decodes as OTLP (pdata's own
	// decoder) and holds none of the secrets.
	reqs := wire.grpcRequests(t)
	if len(reqs) != len(batches) {
		t.Errorf("%d requests on the wire, the Collector decoded %d", len(reqs), len(batches))
	}
	wireBytes, pprofBytes := 0, 0
	for _, r := range reqs {
		wireBytes += len(r.body)
	}
	for _, r := range pyroAll {
		pprofBytes += len(r.raw)
	}
	t.Logf("OTLP requests: %d bytes in all (uncompressed protobuf); the same profiles as gzipped pprof: %d bytes", wireBytes, pprofBytes)
	for _, r := range reqs {
		const method = "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"
		if r.headers[":path"] != method || r.headers["authorization"] != "Bearer otlp-token" {
			t.Errorf("a request to %q with authorization %q, want %s with the token", r.headers[":path"], r.headers["authorization"], method)
		}
		b := r.body
		req := pprofileotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			t.Errorf("a request on the wire does not decode: %v", err)
		}
		for _, s := range []string{"SecretToken", "handleSecret", "secrets.go", "alice@example.com"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("a request on the wire holds %q", s)
			}
		}
	}
	for _, o := range all {
		if v, ok := o.resource.Get("user"); !ok || !strings.HasPrefix(v.AsString(), "redacted:") {
			t.Errorf("resource attribute user = %q, want a hash", v.AsString())
			break
		}
	}
}
