// heapbuckets: a process whose heap profile has about -buckets buckets, for
// timing `gspy profile heap` (bench/heap_read.sh). With MemProfileRate=1
// every allocation is sampled; each comes from a distinct stack (a path of
// left/right calls encoded in its index), so each makes its own bucket.
// Then it prints "ready" and waits for SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

var keep [][]byte

//go:noinline
func left(path, depth int) {
	if depth == 0 {
		keep = append(keep, make([]byte, 16))
		return
	}
	step(path, depth-1)
}

//go:noinline
func right(path, depth int) {
	if depth == 0 {
		keep = append(keep, make([]byte, 16))
		return
	}
	step(path, depth-1)
}

func step(path, depth int) {
	if path>>depth&1 == 0 {
		left(path, depth)
	} else {
		right(path, depth)
	}
}

func main() {
	n := flag.Int("buckets", 10000, "distinct allocation stacks")
	out := flag.String("out", "", "write the program's own heap profile here")
	flag.Parse()
	runtime.MemProfileRate = 1
	depth := 0
	for 1<<depth < *n {
		depth++
	}
	for i := 0; i < *n; i++ {
		step(i, depth)
	}
	runtime.GC()
	runtime.GC()
	if *out != "" { // also what links the memory profiler in
		f, err := os.Create(*out)
		if err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	fmt.Println("ready")
	<-sig
}
