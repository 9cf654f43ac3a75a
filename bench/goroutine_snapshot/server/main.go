// server: a net/http server on loopback that parks -goroutines goroutines at
// start, for bench/goroutine_snapshot.sh. Snapshot cost grows with the number
// of goroutines and their stack depth, so the parked ones look like a real
// server's idle state: 12 kinds, each 4 to 19 frames deep (a call chain of
// main.layerN functions above the park), in six wait reasons (chan receive,
// select, sync.Mutex, sync.Cond, sleep, IO wait on a pipe), a quarter with
// pprof labels.
//
// It serves, on 127.0.0.1:-port (0 picks one):
//
//	/             a cheap handler (a few hundred ns of work, 32 bytes), the
//	              request the load generator times
//	/debug/pprof/ Go's own profiles (net/http/pprof), e.g. goroutine?debug=2
//	/pauses       the process's stop-the-world pauses so far, from
//	              runtime/metrics /sched/pauses/total/{gc,other}:seconds, as
//	              JSON histograms: the load generator takes the delta over
//	              its window (Go 1.22+; empty before)
//
// and prints {"event":"ready","pid":P,"port":N,"goroutines":G,"go_version":V}
// once every goroutine has parked.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"
)

var (
	never   = make(chan struct{}) // never closed: receivers park for good
	mu      sync.Mutex            // held by main forever
	cond    = sync.NewCond(&sync.Mutex{})
	started sync.WaitGroup
	pipeR   *os.File // never written: readers park in IO wait (netpoll)
)

// The call chain above each park: layer(n) calls layer(n-1) down to the
// park, so a goroutine's stack is n frames of main.layer plus the park's.
//
//go:noinline
func layer(n int, park func()) {
	if n == 0 {
		started.Done()
		park()
		return
	}
	layer(n-1, park)
}

func parkChan()  { <-never }
func parkMutex() { mu.Lock() }
func parkSleep() { time.Sleep(365 * 24 * time.Hour) }

func parkSelect() {
	t := time.NewTimer(365 * 24 * time.Hour)
	select {
	case <-never:
	case <-t.C:
	}
}

func parkCond() {
	cond.L.Lock()
	for {
		cond.Wait()
	}
}

func parkPipe() {
	var b [1]byte
	pipeR.Read(b[:])
}

func main() {
	n := flag.Int("goroutines", 1000, "goroutines to park at start")
	port := flag.Int("port", 0, "port on 127.0.0.1 (0 picks one)")
	flag.Parse()

	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pipeR = r
	defer w.Close()
	mu.Lock()
	parks := []func(){parkChan, parkSelect, parkMutex, parkSleep, parkCond, parkChan}
	started.Add(*n)
	for i := 0; i < *n; i++ {
		park := parks[i%len(parks)]
		if i%97 == 0 {
			park = parkPipe // a few in IO wait, as idle connections are
		}
		depth := 3 + (i*7)%16 // 3..18 layers
		if i%4 == 0 {
			labels := pprof.Labels("handler", "h"+strconv.Itoa(i%8), "tenant", strconv.Itoa(i%3))
			pprof.Do(context.Background(), labels, func(context.Context) {
				go layer(depth, park)
			})
		} else {
			go layer(depth, park)
		}
	}
	started.Wait()
	time.Sleep(100 * time.Millisecond) // let the last ones reach their park

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var sum uint64
		for i := uint64(0); i < 200; i++ {
			sum = sum*31 + i
		}
		fmt.Fprintf(w, "ok %016x\n", sum)
	})
	http.HandleFunc("/pauses", servePauses)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(*port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"event": "ready", "pid": os.Getpid(), "port": ln.Addr().(*net.TCPAddr).Port,
		"goroutines": runtime.NumGoroutine(), "go_version": runtime.Version(),
	})
	fmt.Fprintln(os.Stderr, http.Serve(ln, nil))
	os.Exit(1)
}

// Histogram is one runtime/metrics histogram: Counts[i] pauses fell in
// [Buckets[i], Buckets[i+1]).
type Histogram struct {
	Counts  []uint64  `json:"counts"`
	Buckets []float64 `json:"buckets"`
}

func servePauses(w http.ResponseWriter, r *http.Request) {
	names := map[string]string{
		"gc":    "/sched/pauses/total/gc:seconds",
		"other": "/sched/pauses/total/other:seconds",
	}
	var samples []metrics.Sample
	known := map[string]bool{}
	for _, d := range metrics.All() {
		known[d.Name] = true
	}
	for _, name := range names {
		if known[name] {
			samples = append(samples, metrics.Sample{Name: name})
		}
	}
	metrics.Read(samples)
	out := map[string]Histogram{}
	for key, name := range names {
		for _, s := range samples {
			if s.Name != name || s.Value.Kind() != metrics.KindFloat64Histogram {
				continue
			}
			h := s.Value.Float64Histogram()
			// JSON has no infinities: the open ends become 0 and 1e9 s.
			b := append([]float64(nil), h.Buckets...)
			for i, v := range b {
				if math.IsInf(v, -1) {
					b[i] = 0
				} else if math.IsInf(v, 1) {
					b[i] = 1e9
				}
			}
			out[key] = Histogram{Counts: h.Counts, Buckets: b}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
