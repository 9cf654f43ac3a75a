// fixedrate: an open-loop HTTP load generator with a fixed request
// schedule, for bench/http_paired.sh (LOAD=fixed).
//
// Request i is due at start + i/rate, whatever the server does, and its
// latency runs from that due time to when its whole response has been
// read. A closed-loop client (wrk) sends the next request only once the
// previous answer is in, so a server that stalls for 100 ms is charged one
// slow request instead of the hundreds a steady stream of users would have
// seen (coordinated omission); timing from the due time charges them all,
// as wrk2 and HdrHistogram's corrected recording do.
//
// Each target gets -conns keep-alive connections. A due request goes to a
// queue its target's connections take from, one request at a time on each
// (HTTP/1.1, no pipelining); when every connection is busy it waits, and
// that wait is part of its latency. All targets share one schedule: request
// i is due at the same instant on each, so the generator's own hiccups
// (it shares a CPU with other tools) fall on every target alike, which is
// what a paired treated/control comparison needs. The generator's own
// lateness (when it enqueued a request against when it was due) is
// reported apart.
//
// Every latency is kept (rate x duration values per target; the flags
// bound it), and percentiles are nearest-rank over the completed requests.
// Output: one JSON object on stdout. With -latencies PREFIX, each target's
// completed latencies (ns, sorted, one per line) also go to PREFIX.N, N its
// index among the -url flags: `fixedrate -pool FILE...` reads such files
// and prints the percentiles of all their latencies together, so that the
// p99 of many runs is taken over all their requests (a median of per-run
// p99s moves with each run's few slowest requests).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxRequests bounds rate x duration per target (8 bytes each are kept).
const maxRequests = 50_000_000

type targetResult struct {
	URL          string  `json:"url"`
	Sent         int     `json:"sent"`
	Completed    int     `json:"completed"`
	Errors       int     `json:"errors"`
	FirstError   string  `json:"first_error,omitempty"`
	AchievedRate float64 `json:"achieved_rate"`
	P50Ms        float64 `json:"p50_ms"`
	P90Ms        float64 `json:"p90_ms"`
	P99Ms        float64 `json:"p99_ms"`
	P999Ms       float64 `json:"p999_ms"`
	MaxMs        float64 `json:"max_ms"`
}

type output struct {
	Rate       float64        `json:"rate"`
	DurationS  float64        `json:"duration_s"`
	Conns      int            `json:"conns"`
	SendLagP99 float64        `json:"send_lag_p99_ms"`
	SendLagMax float64        `json:"send_lag_max_ms"`
	Targets    []targetResult `json:"targets"`
}

// target is one server under load: its schedule's latencies and its queue.
type target struct {
	url     string
	addr    string
	request []byte
	queue   chan int32
	lat     []int64 // ns from due to response read; -1 when the request failed
	done    atomic.Int64
	errMu   sync.Mutex
	errs    int
	first   string
}

func (t *target) fail(i int32, err error) {
	t.lat[i] = -1
	t.errMu.Lock()
	t.errs++
	if t.first == "" {
		t.first = err.Error()
	}
	t.errMu.Unlock()
}

// conn serves t's queue on one keep-alive connection until the queue is
// closed, reconnecting after an error.
func (t *target) conn(due func(int32) time.Time, timeout time.Duration, wg *sync.WaitGroup) {
	defer wg.Done()
	var c net.Conn
	var br *bufio.Reader
	for i := range t.queue {
		err := func() error {
			if c == nil {
				var err error
				if c, err = net.DialTimeout("tcp", t.addr, timeout); err != nil {
					c = nil
					return err
				}
				br = bufio.NewReaderSize(c, 16<<10)
			}
			c.SetDeadline(time.Now().Add(timeout))
			if _, err := c.Write(t.request); err != nil {
				return err
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %s", resp.Status)
			}
			if resp.Close {
				c.Close()
				c = nil
			}
			return nil
		}()
		if err != nil {
			if c != nil {
				c.Close()
				c = nil
			}
			t.fail(i, err)
			continue
		}
		t.lat[i] = int64(time.Since(due(i)))
		t.done.Add(1)
	}
	if c != nil {
		c.Close()
	}
}

// percentile: nearest rank of p in sorted (ns), in ms.
func percentile(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i]) / 1e6
}

func writeLatencies(path string, sorted []int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range sorted {
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// poolFiles: the percentiles of every latency in the files, as one JSON
// object {"requests":N,"p50_ms":...,"p99_ms":...,"p999_ms":...}.
func poolFiles(paths []string) error {
	if len(paths) == 0 {
		return errors.New("no files")
	}
	var all []int64
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var v int64
			if _, err := fmt.Sscan(sc.Text(), &v); err != nil || v < 0 {
				f.Close()
				return fmt.Errorf("%s: not a latency: %q", p, sc.Text())
			}
			if len(all) >= maxRequests {
				f.Close()
				return fmt.Errorf("more than %d latencies", maxRequests)
			}
			all = append(all, v)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
	}
	if len(all) == 0 {
		return errors.New("no latencies in the files")
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"requests": len(all), "p50_ms": percentile(all, 0.5),
		"p99_ms": percentile(all, 0.99), "p999_ms": percentile(all, 0.999),
	})
}

type urlList []string

func (u *urlList) String() string     { return strings.Join(*u, ",") }
func (u *urlList) Set(s string) error { *u = append(*u, s); return nil }

func newTarget(raw string, total int) (*target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.Host == "" || u.Port() == "" {
		return nil, errors.New("want http://HOST:PORT/PATH")
	}
	path := u.RequestURI()
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gspy-fixedrate\r\n\r\n", path, u.Host)
	return &target{
		url: raw, addr: u.Host, request: []byte(req),
		queue: make(chan int32, total), lat: make([]int64, total),
	}, nil
}

func main() {
	var urls urlList
	flag.Var(&urls, "url", "target, http://HOST:PORT/PATH (repeat for several targets, loaded on one schedule)")
	rate := flag.Float64("rate", 0, "requests per second, per target")
	duration := flag.Duration("duration", 10*time.Second, "length of the schedule")
	conns := flag.Int("conns", 16, "keep-alive connections per target")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request (and connect) timeout")
	latencies := flag.String("latencies", "", "also write each target's latencies (ns, one per line) to PREFIX.N")
	pool := flag.Bool("pool", false, "read the latency files given as arguments and print their pooled percentiles (JSON)")
	flag.Parse()
	die := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "fixedrate: "+format+"\n", a...)
		os.Exit(2)
	}
	if *pool {
		if err := poolFiles(flag.Args()); err != nil {
			die("-pool: %v", err)
		}
		return
	}
	if flag.NArg() != 0 {
		die("unexpected arguments: %q", flag.Args())
	}
	if len(urls) == 0 {
		die("at least one -url is required")
	}
	if !(*rate > 0) || *rate > 1e6 {
		die("-rate must be in (0, 1e6], got %v", *rate)
	}
	if *duration < 100*time.Millisecond {
		die("-duration must be at least 100ms, got %v", *duration)
	}
	if *conns < 1 || *conns > 10000 {
		die("-conns must be in [1, 10000], got %d", *conns)
	}
	if *timeout <= 0 {
		die("-timeout must be positive")
	}
	totalF := *rate * duration.Seconds()
	if totalF < 1 || totalF > maxRequests {
		die("rate x duration = %.0f requests per target, must be in [1, %d]", totalF, maxRequests)
	}
	total := int(totalF)
	var targets []*target
	for _, raw := range urls {
		t, err := newTarget(raw, total)
		if err != nil {
			die("-url %q: %v", raw, err)
		}
		targets = append(targets, t)
	}

	var start time.Time
	nsPer := 1e9 / *rate
	due := func(i int32) time.Time { return start.Add(time.Duration(float64(i) * nsPer)) }
	var wg sync.WaitGroup
	start = time.Now().Add(50 * time.Millisecond) // the connections start first
	for _, t := range targets {
		for k := 0; k < *conns; k++ {
			wg.Add(1)
			go t.conn(due, *timeout, &wg)
		}
	}
	// The dispatcher: everything due is enqueued, then it sleeps until the
	// next due time; what it oversleeps is counted in the send lag. Not
	// time.Sleep: a Go timer on an otherwise idle P waits in epoll_wait,
	// whose timeout is whole milliseconds, so sends would bunch into 1 ms
	// ticks and add up to 1 ms to every latency. nanosleep(2) on a thread
	// of its own wakes within the timer slack (50 us); the connections keep
	// a P of their own meanwhile. Do not run this at SCHED_FIFO on one CPU:
	// FIFO threads are not time-sliced, and the runtime's spinning threads
	// starve the one they wait for.
	runtime.LockOSThread()
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	lags := make([]int64, 0, total)
	for i := int32(0); int(i) < total; {
		now := time.Now()
		for ; int(i) < total; i++ {
			d := due(i)
			if d.After(now) {
				break
			}
			for _, t := range targets {
				t.queue <- i
			}
			lags = append(lags, int64(now.Sub(d)))
		}
		if int(i) < total {
			if d := time.Until(due(i)); d > 0 {
				ts := syscall.NsecToTimespec(int64(d))
				syscall.Nanosleep(&ts, nil) // EINTR: the loop sleeps again
			}
		}
	}
	for _, t := range targets {
		close(t.queue)
	}
	wg.Wait()
	elapsed := time.Since(start)

	out := output{Rate: *rate, DurationS: duration.Seconds(), Conns: *conns}
	sort.Slice(lags, func(a, b int) bool { return lags[a] < lags[b] })
	out.SendLagP99 = percentile(lags, 0.99)
	out.SendLagMax = percentile(lags, 1)
	for _, t := range targets {
		ok := make([]int64, 0, total)
		for _, l := range t.lat {
			if l >= 0 {
				ok = append(ok, l)
			}
		}
		sort.Slice(ok, func(a, b int) bool { return ok[a] < ok[b] })
		if *latencies != "" {
			if err := writeLatencies(fmt.Sprintf("%s.%d", *latencies, len(out.Targets)), ok); err != nil {
				die("-latencies: %v", err)
			}
		}
		out.Targets = append(out.Targets, targetResult{
			URL: t.url, Sent: total, Completed: len(ok), Errors: t.errs, FirstError: t.first,
			AchievedRate: float64(len(ok)) / elapsed.Seconds(),
			P50Ms:        percentile(ok, 0.5), P90Ms: percentile(ok, 0.9), P99Ms: percentile(ok, 0.99),
			P999Ms: percentile(ok, 0.999), MaxMs: percentile(ok, 1),
		})
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		die("%v", err)
	}
	for _, t := range targets {
		if t.errs > 0 {
			fmt.Fprintf(os.Stderr, "fixedrate: %s: %d of %d requests failed, first: %s\n", t.url, t.errs, total, t.first)
		}
	}
}
