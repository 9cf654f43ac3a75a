// gcwork: a GC-heavy workload for gspy's stop-the-world pause tests.
//
// It prints {"event":"ready","pid":N} and waits for a line on stdin (the
// test sends it once gspy's probes are attached). Then it reads its own
// runtime/metrics, allocates hard for -seconds, stops, runs runtime.GC() so
// no cycle is left half done, reads the metrics again and prints the deltas
// over exactly that window as {"event":"done",...}, and exits.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

const (
	pausesMetric = "/sched/pauses/total/gc:seconds"
	otherMetric  = "/sched/pauses/total/other:seconds"
	cyclesMetric = "/gc/cycles/total:gc-cycles"
	// Before Go 1.22 the GC's pauses are only in /gc/pauses:seconds (the
	// same distribution, deprecated since), and other pauses nowhere.
	oldPausesMetric = "/gc/pauses:seconds"
)

type snapshot struct {
	cycles  uint64
	other   int64 // non-GC stop-the-world pauses; -1 when Go does not say
	buckets []float64
	counts  []uint64
}

func read() snapshot {
	s := []metrics.Sample{{Name: pausesMetric}, {Name: cyclesMetric}, {Name: otherMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindBad {
		s[0].Name = oldPausesMetric
		metrics.Read(s[:1])
	}
	if s[0].Value.Kind() != metrics.KindFloat64Histogram || s[1].Value.Kind() != metrics.KindUint64 {
		fmt.Fprintf(os.Stderr, "gcwork: %s or %s is not supported by %s\n", s[0].Name, cyclesMetric, runtime.Version())
		os.Exit(2)
	}
	h := s[0].Value.Float64Histogram()
	other := int64(-1)
	if s[2].Value.Kind() == metrics.KindFloat64Histogram {
		other = 0
		for _, c := range s[2].Value.Float64Histogram().Counts {
			other += int64(c)
		}
	}
	return snapshot{
		cycles:  s[1].Value.Uint64(),
		other:   other,
		buckets: append([]float64(nil), h.Buckets...),
		counts:  append([]uint64(nil), h.Counts...),
	}
}

type node struct {
	left, right *node
	payload     [6]int64
}

func tree(depth int) *node {
	if depth == 0 {
		return &node{}
	}
	return &node{left: tree(depth - 1), right: tree(depth - 1)}
}

func main() {
	seconds := flag.Float64("seconds", 3, "how long to allocate after the go line")
	workers := flag.Int("workers", 2, "allocating goroutines")
	readMemStats := flag.Int("readmemstats", 0, "runtime.ReadMemStats calls (each stops the world) spread over the window")
	// A reader of the process's own memory (gspyd's books) needs it alive.
	linger := flag.Duration("linger", 0, "how long to stay, idle, after the done line")
	flag.Parse()

	out := json.NewEncoder(os.Stdout)
	out.Encode(map[string]any{"event": "ready", "pid": os.Getpid(), "go_version": runtime.Version()})
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintf(os.Stderr, "gcwork: waiting for the go line: %v\n", err)
		os.Exit(2)
	}

	before := read()
	start := time.Now()
	// A live heap of a few MB so that each cycle has real marking to do.
	live := make([]*node, 64)
	for i := range live {
		live[i] = tree(10)
	}
	// Plain atomics, not atomic.Bool/Int64: the workload builds with Go 1.18.
	var stop int32
	var wg sync.WaitGroup
	var allocs int64
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; atomic.LoadInt32(&stop) == 0; i++ {
				t := tree(8)
				if i%16 == 0 {
					live[(i/16+w*7)%len(live)] = t
				}
				atomic.AddInt64(&allocs, 1)
			}
		}(w)
	}
	window := time.Duration(*seconds * float64(time.Second))
	if *readMemStats > 0 {
		var ms runtime.MemStats
		for i := 0; i < *readMemStats; i++ {
			time.Sleep(window / time.Duration(*readMemStats+1))
			runtime.ReadMemStats(&ms)
		}
		time.Sleep(window / time.Duration(*readMemStats+1))
	} else {
		time.Sleep(window)
	}
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	runtime.GC()
	after := read()
	runtime.KeepAlive(live)
	// The gctrace line of the last cycle is printed by whichever goroutine
	// finished it, possibly after runtime.GC returned: give it time. The
	// process is idle meanwhile (no allocation, no stop of the world).
	time.Sleep(200 * time.Millisecond)

	// Histogram deltas: count, and the total estimated from each bucket's
	// midpoint (bounds: lower and upper edges; an infinite edge counts as
	// the finite one).
	var count uint64
	var mid, lo, hi float64
	for i, c := range after.counts {
		d := c - before.counts[i]
		if d == 0 {
			continue
		}
		l, u := after.buckets[i], after.buckets[i+1]
		if math.IsInf(l, -1) {
			l = 0
		}
		if math.IsInf(u, 1) {
			u = l
		}
		count += d
		lo += float64(d) * l
		hi += float64(d) * u
		mid += float64(d) * (l + u) / 2
	}
	out.Encode(map[string]any{
		"event":           "done",
		"window_seconds":  time.Since(start).Seconds(),
		"pauses":          count,
		"pause_total_mid": mid,
		"pause_total_lo":  lo,
		"pause_total_hi":  hi,
		"cycles":          after.cycles - before.cycles,
		"other_pauses":    otherDelta(before, after),
		"numgc_before":    before.cycles,
		"numgc_after":     after.cycles,
		"allocs":          atomic.LoadInt64(&allocs),
	})
	time.Sleep(*linger)
}

// otherDelta is the count of non-GC pauses over the window, -1 when this Go
// does not measure them.
func otherDelta(before, after snapshot) int64 {
	if before.other < 0 || after.other < 0 {
		return -1
	}
	return after.other - before.other
}
