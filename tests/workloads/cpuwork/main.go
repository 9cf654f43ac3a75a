// Command cpuwork is gspy's CPU workload: it burns CPU in known functions
// under known pprof labels so that a profile of it can be checked against
// the expected split and against Go's own runtime/pprof CPU profile.
//
// Modes:
//
//	-mode=split       goroutine A (pprof label handler=alpha) loops main.spinAlpha;
//	                  goroutine B (handler=beta) alternates 3 units of main.spinBeta
//	                  (which calls the inlinable helper main.mix in its hot loop)
//	                  and 1 unit of main.spinGamma.
//	-mode=throughput  GOMAXPROCS goroutines run fixed-size units; prints ops/s.
//
// Output (stdout, one JSON object per line):
//
//	{"event":"ready","pid":P,"goids":{"alpha":N,"beta":M}}   (split mode)
//	{"event":"ready","pid":P,"workers":W}                     (throughput mode)
//	{"event":"done","ops":...}                                 (split mode)
//	{"event":"done","ops":...,"ops_per_sec":X}                 (throughput mode)
//
// -cpuprofile PATH writes a runtime/pprof CPU profile (100 Hz) that covers
// exactly the working window (started before "ready", stopped before "done").
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// cgoHook is set by cgo.go when built with cgo; it calls a trivial C function.
var cgoHook func() int

// unitIters is the number of loop iterations in one work unit (~1ms or less).
const unitIters = 200_000

var stop atomic.Bool

// rounds counts the work rounds of goroutines alpha (0) and beta (1). A round
// is 4 units of spinAlpha for alpha, 3 units of spinBeta plus 1 of spinGamma
// for beta. pace keeps the two goroutines within a few rounds of each other,
// so the CPU split between them follows from the work, not from how the OS
// happens to schedule their threads on a busy machine.
var rounds [2]atomic.Int64

func pace(me int) {
	rounds[me].Add(1)
	for !stop.Load() && rounds[me].Load() > rounds[1-me].Load()+2 {
		time.Sleep(200 * time.Microsecond)
	}
}

// mix is a small helper meant to be inlined into spinBeta's hot loop, so that
// profiles contain an inlined frame (Location with several Lines).
func mix(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	return x
}

//go:noinline
func spinAlpha(n int, x uint64) uint64 {
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 29
	}
	return x
}

//go:noinline
func spinBeta(n int, x uint64) uint64 {
	y := x
	for i := 0; i < n; i++ {
		x = mix(x)
		y = y*2862933555777941757 + x
		y ^= y >> 31
	}
	return x ^ y
}

//go:noinline
func spinGamma(n int, x uint64) uint64 {
	for i := 0; i < n; i++ {
		x = x*3935559000370003845 + 2691343689449507681
		x ^= x >> 27
	}
	return x
}

// goid returns the current goroutine's id, parsed from "goroutine N [".
func goid() int64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	if i := bytes.IndexByte(buf, ' '); i > 0 {
		if n, err := strconv.ParseInt(string(buf[:i]), 10, 64); err == nil {
			return n
		}
	}
	return -1
}

var sink atomic.Uint64

func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cpuwork: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long to work")
	cpuprofile := flag.String("cpuprofile", "", "write a runtime/pprof CPU profile (100 Hz) of the working window to this file")
	mode := flag.String("mode", "split", "split|throughput")
	flag.Parse()
	if *duration <= 0 {
		die("-duration must be positive")
	}
	if cgoHook != nil && cgoHook() != 42 {
		die("cgo hook returned a wrong value")
	}

	var startProfile, stopProfile func()
	startProfile, stopProfile = func() {}, func() {}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			die("%v", err)
		}
		startProfile = func() {
			if err := pprof.StartCPUProfile(f); err != nil {
				die("StartCPUProfile: %v", err)
			}
		}
		stopProfile = func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				die("closing %s: %v", *cpuprofile, err)
			}
		}
	}

	switch *mode {
	case "split":
		runSplit(*duration, startProfile, stopProfile)
	case "throughput":
		runThroughput(*duration, startProfile, stopProfile)
	default:
		die("unknown -mode %q (want split or throughput)", *mode)
	}
}

func runSplit(d time.Duration, startProfile, stopProfile func()) {
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	var goidAlpha, goidBeta int64
	var opsAlpha, opsBeta, opsGamma int64
	ready.Add(2)
	done.Add(2)

	go pprof.Do(context.Background(), pprof.Labels("handler", "alpha"), func(context.Context) {
		defer done.Done()
		goidAlpha = goid()
		ready.Done()
		<-start
		x := uint64(1)
		for !stop.Load() {
			for i := 0; i < 4; i++ {
				x = spinAlpha(unitIters, x)
				opsAlpha++
			}
			pace(0)
		}
		sink.Add(x)
	})
	go pprof.Do(context.Background(), pprof.Labels("handler", "beta"), func(context.Context) {
		defer done.Done()
		goidBeta = goid()
		ready.Done()
		<-start
		x := uint64(2)
		for !stop.Load() {
			for i := 0; i < 3; i++ {
				x = spinBeta(unitIters, x)
				opsBeta++
			}
			x = spinGamma(unitIters, x)
			opsGamma++
			pace(1)
		}
		sink.Add(x)
	})

	ready.Wait()
	startProfile()
	close(start)
	emit(map[string]any{
		"event": "ready",
		"pid":   os.Getpid(),
		"goids": map[string]int64{"alpha": goidAlpha, "beta": goidBeta},
	})
	time.Sleep(d)
	stop.Store(true)
	done.Wait()
	stopProfile()
	emit(map[string]any{
		"event": "done",
		"ops":   map[string]int64{"alpha": opsAlpha, "beta": opsBeta, "gamma": opsGamma},
	})
}

func runThroughput(d time.Duration, startProfile, stopProfile func()) {
	workers := runtime.GOMAXPROCS(0)
	var ops atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			<-start
			x := seed
			var n int64
			for !stop.Load() {
				x = spinAlpha(unitIters/4, x)
				n++
			}
			ops.Add(n)
			sink.Add(x)
		}(uint64(w + 1))
	}
	startProfile()
	t0 := time.Now()
	close(start)
	emit(map[string]any{"event": "ready", "pid": os.Getpid(), "workers": workers})
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(t0)
	stopProfile()
	n := ops.Load()
	emit(map[string]any{
		"event":       "done",
		"ops":         n,
		"seconds":     elapsed.Seconds(),
		"ops_per_sec": float64(n) / elapsed.Seconds(),
	})
}
