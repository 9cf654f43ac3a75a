// heapwork: a workload whose own heap profile gspy's must equal.
//
// It retains 64 MiB in main.retainBig (1 MiB slices), churns small
// allocations in main.churnSmall (keeping one in 16), allocates through an
// inlined helper (main.newNode, inlined into main.buildList), and with
// -mutex/-block turns on the mutex and block profiles and makes
// contention. Then it stops allocating, runs runtime.GC() twice, writes its
// own heap (and mutex/block) profiles with runtime/pprof to -out, prints
// {"event":"ready","pid":...} and waits for SIGTERM without allocating:
// from then on nothing the heap profile shows can change (allocations
// would only reach it after two more GCs).
//
// With -churn=D, once ready it reads a line from stdin, then allocates 4 KiB buffers it drops at once in
// main.churnLoop for D (about 40 MB/s), runs runtime.GC() twice so that
// the heap profile publishes them, writes its own heap profile again to
// OUT.churned and prints {"event":"churned","bytes":N}: the allocations a
// delta heap profile of the time must show.
//
// -churn-after keeps allocating in main.churnAfter after the ready line
// (for delta profiles).
//
// -noprofiler builds nothing differently; the binary built with
// -tags=noprofiler does not link runtime/pprof at all (memory profiling
// disabled by the linker).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"
)

var (
	big   [][]byte
	small [][]byte
	list  *node
	sink  []byte
)

type node struct {
	next *node
	val  [48]byte
}

//go:noinline
func retainBig() {
	for i := 0; i < 64; i++ {
		big = append(big, make([]byte, 1<<20))
	}
}

//go:noinline
func churnSmall(n int) {
	for i := 0; i < n; i++ {
		b := make([]byte, 64)
		if i%16 == 0 {
			small = append(small, b)
		}
		sink = b
	}
}

// newNode is small enough to be inlined into buildList.
func newNode(next *node) *node { return &node{next: next} }

func buildList(n int) {
	for i := 0; i < n; i++ {
		list = newNode(list)
	}
}

// churnAfter allocates 64-byte objects after the ready line (-churn-after),
// for the delta heap profile: they are the window's only allocations.
//
//go:noinline
func churnAfter(n int) {
	for i := 0; i < n; i++ {
		sink = make([]byte, 64)
	}
}

func contend(rounds int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				mu.Lock()
				time.Sleep(50 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// churnLoop allocates 4 KiB buffers, 100 every 10 ms, for d and returns
// the bytes allocated.
//
//go:noinline
func churnLoop(d time.Duration) int64 {
	var n int64
	for start := time.Now(); time.Since(start) < d; {
		for i := 0; i < 100; i++ {
			sink = make([]byte, 4096)
			n += 4096
		}
		time.Sleep(10 * time.Millisecond)
	}
	sink = nil
	return n
}

func main() {
	out := flag.String("out", "", "where to write the program's own heap profile")
	mutex := flag.Bool("mutex", false, "SetMutexProfileFraction(1) and contend")
	block := flag.Bool("block", false, "SetBlockProfileRate(1) and contend")
	rate := flag.Int("rate", -1, "MemProfileRate to set at the start (-1: leave)")
	churn := flag.Duration("churn", 0, "once ready, allocate garbage in main.churnLoop this long")
	after := flag.Bool("churn-after", false, "after the ready line, allocate in main.churnAfter (and GC) until SIGTERM")
	flag.Parse()
	if *rate >= 0 {
		runtime.MemProfileRate = *rate
	}
	setRates(*mutex, *block)
	retainBig()
	churnSmall(200000)
	buildList(100000)
	if *mutex || *block {
		contend(200)
	}
	// Before the snapshot: signal.Notify blocks on channels (block
	// profile) and allocates.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	runtime.GC()
	runtime.GC()
	if err := writeProfiles(*out, *mutex, *block); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("{\"event\":\"ready\",\"pid\":%d,\"go_version\":%q}\n", os.Getpid(), runtime.Version())
	if *churn > 0 {
		bufio.NewReader(os.Stdin).ReadString('\n')
		n := churnLoop(*churn)
		runtime.GC()
		runtime.GC()
		if err := writeProfiles(*out+".churned", false, false); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("{\"event\":\"churned\",\"bytes\":%d}\n", n)
	}
	if *after {
		go func() {
			for {
				churnAfter(20000)
				runtime.GC() // publishes the cycle's allocations
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	<-sig
	runtime.KeepAlive(big)
	runtime.KeepAlive(small)
	runtime.KeepAlive(list)
}
