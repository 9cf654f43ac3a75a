// pausework: GC pauses on demand, for the alerting-rule tests.
//
// It allocates garbage without pause (a GC every few milliseconds). With
// -spin=D a goroutine also spins in loops of D with no function call: run
// with GODEBUG=asyncpreemptoff=1, nothing can stop it mid-loop, so every
// stop-the-world of the GC waits for the loop to end and the GC's pauses
// (/sched/pauses/total/gc:seconds, stopping included) last up to D. Without
// -spin the pauses are the usual tens of microseconds.
//
// It prints {"event":"ready","pid":N} and runs until stdin closes.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"time"
)

var sink []byte

//go:noinline
func allocate() {
	for {
		for i := 0; i < 1000; i++ {
			sink = make([]byte, 4096)
		}
		time.Sleep(time.Millisecond)
	}
}

// spinFor loops for about d without a call inside the loop (no
// preemption point; a small leaf function has no stack check either).
//
//go:noinline
func spinFor(d time.Duration, iters uint64) uint64 {
	var x uint64
	for i := uint64(0); i < iters; i++ {
		x = x*6364136223846793005 + i
	}
	return x
}

func main() {
	spin := flag.Duration("spin", 0, "length of each non-preemptible loop (0: none)")
	flag.Parse()
	go allocate()
	if *spin > 0 {
		// Calibrate the iterations of one loop of *spin.
		const probe = 10_000_000
		start := time.Now()
		spinFor(0, probe)
		iters := uint64(float64(probe) * float64(*spin) / float64(time.Since(start)))
		go func() {
			var x uint64
			for {
				x += spinFor(*spin, iters)
				runtime.Gosched() // the one preemption point
			}
		}()
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"event": "ready", "pid": os.Getpid()})
	bufio.NewReader(os.Stdin).ReadString('\n')
}
