package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
)

// refusedCounts: gspy_requests_refused_total by reason.
func refusedCounts(t *testing.T, d *ownDaemon) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	f := d.scrape(t)["gspy_requests_refused_total"]
	if f == nil {
		t.Fatalf("/metrics has no gspy_requests_refused_total")
	}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "reason" {
				out[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// expectRefused checks err is `code` with a message naming `flag`.
func expectRefused(t *testing.T, what string, err error, code codes.Code, flag string) {
	t.Helper()
	if codeOf(err) != code {
		t.Errorf("%s: %v, want %v", what, err, code)
		return
	}
	if flag != "" && !strings.Contains(err.Error(), flag) {
		t.Errorf("%s: the message does not name %s: %v", what, flag, err)
	}
	t.Logf("%s: %v", what, err)
}

// regexTerms is a filter of n distinct RE2 terms.
func regexTerms(n int) string {
	terms := make([]string, n)
	for i := range terms {
		terms[i] = fmt.Sprintf("stack:~f%d", i)
	}
	return strings.Join(terms, " ")
}

// goroutinesRequest encodes a GetGoroutinesRequest for one pid; shared asks
// for shared label sets.
func goroutinesRequest(pid int, shared bool) []byte {
	var sel []byte
	sel = protowire.AppendTag(sel, 1, protowire.BytesType)
	sel = protowire.AppendBytes(sel, protowire.AppendVarint(nil, uint64(pid)))
	var req []byte
	req = protowire.AppendTag(req, 1, protowire.BytesType)
	req = protowire.AppendBytes(req, sel)
	if shared {
		req = protowire.AppendTag(req, 5, protowire.VarintType)
		req = protowire.AppendVarint(req, 1)
	}
	return req
}

// streamGoroutines reads GetGoroutines' whole stream; it returns the bytes
// received and the status.
func streamGoroutines(conn *grpc.ClientConn, req []byte) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	desc := &grpc.StreamDesc{ServerStreams: true}
	s, err := conn.NewStream(ctx, desc, "/gspy.v1.Profiler/GetGoroutines")
	if err != nil {
		return 0, err
	}
	if err := s.SendMsg(&req); err != nil {
		return 0, err
	}
	if err := s.CloseSend(); err != nil {
		return 0, err
	}
	var n int64
	for {
		var m []byte
		if err := s.RecvMsg(&m); err != nil {
			if err.Error() == "EOF" {
				return n, nil
			}
			return n, err
		}
		n += int64(len(m))
	}
}

// TestAdmissionLimits: each limit of gspyd, set low, refused with its code
// and a message naming its flag, and counted by reason in /metrics; what
// stays under the limits is served. Clients are Go's gRPC: the unix socket
// and TCP are two clients (per-client limit).
func TestAdmissionLimits(t *testing.T) {
	hh := env(t)
	sock := filepath.Join(t.TempDir(), "gspyd.sock")
	d := startOwnDaemon(t, hh, "--listen=127.0.0.1:0,unix://"+sock, "--metrics-listen=127.0.0.1:0",
		"--max-concurrent-pulls=6", "--max-concurrent-pulls-per-client=4",
		"--max-filter-terms=16", "--max-filter-regex-memory=1048576",
		"--max-pids-per-request=64", "--max-goroutine-dump-bytes=4194304")
	self := os.Getpid() // the test binary is a Go process
	tcp := dialGspyd(t, d.addr, nil)
	unix := dialGspyd(t, "unix://"+sock, nil)

	threadsRefused := 0
	t.Run("concurrent pulls", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		long := func(conn *grpc.ClientConn) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var resp []byte
				req := profileRequest([]int{self}, 60*time.Second, "")
				conn.Invoke(ctx, "/gspy.v1.Profiler/GetProfile", &req, &resp)
			}()
		}
		for i := 0; i < 4; i++ {
			long(tcp)
		}
		waitInFlight(t, d, 4)
		expectRefused(t, "a 5th pull over TCP", getProfile(tcp, 10*time.Second, profileRequest([]int{self}, time.Second, "")),
			codes.ResourceExhausted, "--max-concurrent-pulls-per-client=4")
		long(unix)
		long(unix)
		waitInFlight(t, d, 6)
		expectRefused(t, "a 7th pull (over the socket)", getProfile(unix, 10*time.Second, profileRequest([]int{self}, time.Second, "")),
			codes.ResourceExhausted, "--max-concurrent-pulls=6")
		// gRPC's own limit: the synchronous server's threads (the admitted
		// pulls + 16). With the 6 pulls holding theirs, bursts of quick calls
		// over many connections need more than the rest: gRPC refuses those
		// itself, before gspyd's code runs, and gspyd still counts them.
		threadsRefused = burstUntilThreadsRefused(t, d.addr)
		cancel()
		wg.Wait()
		waitInFlight(t, d, 0)
		if err := getProfile(tcp, 30*time.Second, profileRequest([]int{self}, time.Second, "")); err != nil {
			t.Errorf("a pull once the others ended: %v", err)
		}
	})

	t.Run("filter", func(t *testing.T) {
		expectRefused(t, "17 filter terms", getProfile(tcp, 10*time.Second, profileRequest([]int{self}, time.Second, regexTerms(17))),
			codes.ResourceExhausted, "--max-filter-terms=16")
		// 1 MiB of RE2 memory: one pattern of 10 repeated Unicode letters fits;
		// 16 of 200 each do not (a share of 64 KiB each).
		big := strings.TrimSpace(strings.Repeat(`stack:~\pL{200} `, 16))
		expectRefused(t, "16 large patterns", getProfile(tcp, 10*time.Second, profileRequest([]int{self}, time.Second, big)),
			codes.ResourceExhausted, "--max-filter-regex-memory=1048576")
		if err := getProfile(tcp, 30*time.Second, profileRequest([]int{self}, time.Second, regexTerms(16))); err != nil {
			t.Errorf("16 terms: %v", err)
		}
		if err := getProfile(tcp, 30*time.Second, profileRequest([]int{self}, time.Second, `stack:~\pL{10}`)); err != nil {
			t.Errorf("one small pattern: %v", err)
		}
	})

	t.Run("pids", func(t *testing.T) {
		var distinct []int
		for p := 1; len(distinct) < 65; p++ {
			distinct = append(distinct, 4000000+p)
		}
		expectRefused(t, "65 distinct pids", getProfile(tcp, 10*time.Second, profileRequest(distinct, time.Second, "")),
			codes.InvalidArgument, "--max-pids-per-request=64")
		dup := make([]int, 100000)
		for i := range dup {
			dup[i] = self
		}
		start := time.Now()
		if err := getProfile(tcp, 30*time.Second, profileRequest(dup, time.Second, "")); err != nil {
			t.Errorf("one pid repeated 100000 times (deduplicated: one pid): %v", err)
		}
		t.Logf("100000 repeats of one pid: served in %v", time.Since(start))
	})

	t.Run("request size", func(t *testing.T) {
		huge := "label:k=" + strings.Repeat("x", 2<<20)
		expectRefused(t, "a 2 MiB request", getProfile(tcp, 10*time.Second, profileRequest([]int{self}, time.Second, huge)),
			codes.ResourceExhausted, "")
		if !d.alive() {
			t.Fatal("gspyd died")
		}
	})

	t.Run("goroutine dump bytes", func(t *testing.T) {
		bin := hh.buildWorkload(t, "goroutines", "", "")
		w := startGcwork(t, bin, "-profile="+filepath.Join(t.TempDir(), "go.txt"), "-shared-labels=300")
		// Labels in every goroutine: 300 x 256 KiB, over 4 MiB.
		n, err := streamGoroutines(tcp, goroutinesRequest(w.pid, false))
		expectRefused(t, fmt.Sprintf("a dump with labels in each goroutine (%d bytes received)", n), err,
			codes.ResourceExhausted, "--max-goroutine-dump-bytes=4194304")
		// Shared: the set once.
		n, err = streamGoroutines(tcp, goroutinesRequest(w.pid, true))
		if err != nil {
			t.Errorf("a dump with shared label sets: %v", err)
		}
		t.Logf("the dump with shared label sets: %d bytes", n)
		if n > 4<<20 {
			t.Errorf("the dump with shared label sets took %d bytes", n)
		}
		fmt.Fprintln(w.stdin, "stop")
	})

	got := refusedCounts(t, d)
	t.Logf("gspy_requests_refused_total: %v", got)
	for reason, want := range map[string]float64{
		"client_concurrent_pulls": 1, "concurrent_pulls": 1, "filter_terms": 1,
		"filter_regex_memory": 1, "pids": 1, "goroutine_dump_bytes": 1,
		"server_threads": float64(threadsRefused),
	} {
		if got[reason] != want {
			t.Errorf("gspy_requests_refused_total{reason=%q} = %v, want %v", reason, got[reason], want)
		}
	}
}

// burstUntilThreadsRefused sends bursts of concurrent ListTargets calls
// (800 at once over 8 connections) until gRPC refuses some for want of a
// server thread; it returns how many it refused so. Every other call must
// be served.
func burstUntilThreadsRefused(t *testing.T, addr string) int {
	t.Helper()
	conns := make([]*grpc.ClientConn, 8)
	for i := range conns {
		conns[i] = dialGspyd(t, addr, nil)
	}
	refused := 0
	deadline := time.Now().Add(20 * time.Second)
	for burst := 1; refused == 0; burst++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d bursts in 20 s and no call refused for want of a server thread", burst-1)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		served := 0
		for i := 0; i < 800; i++ {
			wg.Add(1)
			go func(conn *grpc.ClientConn) {
				defer wg.Done()
				_, err := unary(conn, 30*time.Second, "/gspy.v1.Profiler/ListTargets", []byte{})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					served++
				case codeOf(err) == codes.ResourceExhausted && strings.Contains(err.Error(), "Threadpool"):
					refused++
				default:
					t.Errorf("ListTargets in a burst: %v", err)
				}
			}(conns[i%len(conns)])
		}
		wg.Wait()
		t.Logf("burst %d: %d ListTargets served, %d refused by gRPC (no server thread left)", burst, served, refused)
	}
	return refused
}

// waitInFlight waits until gspyd serves n GetProfile calls.
func waitInFlight(t *testing.T, d *ownDaemon, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got float64
	for time.Now().Before(deadline) {
		got = 0
		if f := d.scrape(t)["gspy_grpc_calls_in_flight"]; f != nil {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "method" && l.GetValue() == "GetProfile" {
						got += m.GetGauge().GetValue()
					}
				}
			}
		}
		if int(got) == n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("gspyd serves %v GetProfile calls after 15s, want %d", got, n)
}
