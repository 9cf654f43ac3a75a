// books: a workload whose runtime/metrics gspy's books reader must equal.
//
// It configures the GC (-gogc, -memlimit, -procs), exercises what the
// metrics count (forced and automatic GCs, more than the pause ring holds;
// sync.Mutex contention; many short goroutines; cgo calls; a thread that
// exits locked), waits for all of it, and goes quiet. Then, for every
// SIGUSR1 pair it gets, it reads its own runtime/metrics (A), prints
// {"event":"a"}, waits for the next SIGUSR1 (the test reads the books from
// outside in between), reads them again (B) and prints A, B and
// debug.ReadGCStats as one JSON line. Each SIGUSR2 runs -usr2-gcs more GC
// cycles.
//
// Between A and B the process must not allocate, start threads or stop the
// world: the samples are preallocated (metrics.Read then reuses their
// histograms), the "a" line is a preformatted write, and waiting is a
// channel receive on a signal.Notify channel (no blocking syscall that
// would make sysmon start another thread).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var (
	gogc     = flag.Int("gogc", 100, "debug.SetGCPercent; -1 is off")
	memlimit = flag.Int64("memlimit", 0, "debug.SetMemoryLimit in bytes (go1.19+); 0 leaves it")
	procs    = flag.Int("procs", 0, "runtime.GOMAXPROCS; 0 leaves it")
	forced   = flag.Int("gcs", 300, "runtime.GC() calls (more than the 256-entry pause ring)")
	cgoCalls = flag.Int("cgo-calls", 1000, "calls into C (cgo builds)")
	usr2GCs  = flag.Int("usr2-gcs", 300, "runtime.GC() calls on each SIGUSR2")
)

var sink [][]byte

type value struct {
	Kind    string   `json:"kind"`
	Uint64  uint64   `json:"uint64,omitempty"`
	Float64 string   `json:"float64,omitempty"` // strconv 'g' -1: exact
	Counts  []uint64 `json:"counts,omitempty"`
	Buckets []string `json:"buckets,omitempty"`
}

func encode(s []metrics.Sample) map[string]value {
	out := map[string]value{}
	for _, m := range s {
		switch m.Value.Kind() {
		case metrics.KindUint64:
			out[m.Name] = value{Kind: "uint64", Uint64: m.Value.Uint64()}
		case metrics.KindFloat64:
			out[m.Name] = value{Kind: "float64", Float64: strconv.FormatFloat(m.Value.Float64(), 'g', -1, 64)}
		case metrics.KindFloat64Histogram:
			h := m.Value.Float64Histogram()
			v := value{Kind: "histogram", Counts: append([]uint64(nil), h.Counts...)}
			for _, b := range h.Buckets {
				v.Buckets = append(v.Buckets, strconv.FormatFloat(b, 'g', -1, 64))
			}
			out[m.Name] = v
		}
	}
	return out
}

func load() {
	var wg sync.WaitGroup
	// Contended mutex: /sync/mutex/wait/total (1.20+).
	var mu sync.Mutex
	shared := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				mu.Lock()
				for j := 0; j < 200; j++ {
					shared += j
				}
				mu.Unlock()
			}
		}()
	}
	// Allocation: automatic cycles, heap goal, heap live.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			sink = append(sink, make([]byte, 64<<10))
			if len(sink) > 200 {
				sink = sink[:0]
			}
		}
	}()
	// Many short goroutines: /sched/latencies.
	for i := 0; i < 5000; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
	}
	// A thread that exits locked: the runtime frees its M.
	wg.Add(1)
	go func() {
		defer wg.Done()
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(done)
		}()
		<-done
	}()
	wg.Wait()
	callC(*cgoCalls)
	for i := 0; i < *forced; i++ {
		runtime.GC()
	}
}

func main() {
	flag.Parse()
	if *memlimit != 0 && !haveMemoryLimit {
		fmt.Fprintln(os.Stderr, "books: -memlimit needs go1.19")
		os.Exit(2)
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	// SIGUSR2: -usr2-gcs more cycles, then {"event":"gcs-done"}.
	usr2 := make(chan os.Signal, 1)
	signal.Notify(usr2, syscall.SIGUSR2)
	go func() {
		for range usr2 {
			for i := 0; i < *usr2GCs; i++ {
				runtime.GC()
			}
			os.Stdout.Write([]byte("{\"event\":\"gcs-done\"}\n"))
		}
	}()
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	debug.SetGCPercent(*gogc)
	if *memlimit > 0 {
		setMemoryLimit(*memlimit)
	}
	load()

	// Quiesce, then preallocate everything the rounds use.
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	var a, b []metrics.Sample
	for _, d := range metrics.All() {
		a = append(a, metrics.Sample{Name: d.Name})
		b = append(b, metrics.Sample{Name: d.Name})
	}
	metrics.Read(a)
	metrics.Read(b)
	var gcs debug.GCStats
	gcs.Pause = make([]time.Duration, 0, 256)
	gcs.PauseEnd = make([]time.Time, 0, 256)
	aLine := []byte("{\"event\":\"a\"}\n")
	ready, _ := json.Marshal(map[string]any{"event": "ready", "pid": os.Getpid(), "go_version": runtime.Version()})
	os.Stdout.Write(append(ready, '\n'))

	for {
		<-usr1
		metrics.Read(a)
		os.Stdout.Write(aLine)
		<-usr1
		metrics.Read(b)
		debug.ReadGCStats(&gcs)
		var pauses, ends []int64
		for i := range gcs.Pause {
			pauses = append(pauses, int64(gcs.Pause[i]))
			ends = append(ends, gcs.PauseEnd[i].UnixNano())
		}
		line, err := json.Marshal(map[string]any{
			"event": "round", "a": encode(a), "b": encode(b),
			"num_gc": gcs.NumGC, "pause_total_ns": int64(gcs.PauseTotal),
			"pauses_ns": pauses, "pause_ends_unix_ns": ends,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.Write(append(line, '\n'))
	}
}
