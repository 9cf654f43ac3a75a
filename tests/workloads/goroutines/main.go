// goroutines: thousands of goroutines parked in known states and stacks, for
// gspy's goroutine dump tests.
//
// It starts every group, waits until each goroutine has reached the point
// where it parks for good, writes Go's own goroutine profile
// (pprof.Lookup("goroutine").WriteTo(f, 1)) to -profile, prints
// {"event":"ready","pid":N,"go_version":V,"goroutines":N} and then waits
// for a line on stdin (in a read syscall), and exits. Nothing changes between
// the profile and the exit, so a dump taken in between must match it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	never    = make(chan int) // only ever received from: blocks for good
	sink     = make(chan int) // only ever sent to: blocks for good
	mu       sync.Mutex       // held by main forever
	rw       sync.RWMutex     // write-held by main forever
	cond     = sync.NewCond(&sync.Mutex{})
	blockers sync.WaitGroup // never done
	started  sync.WaitGroup // each goroutine says it is about to park
)

//go:noinline
func blockOnChan() {
	started.Done()
	<-never
}

//go:noinline
func sendOnChan() {
	started.Done()
	sink <- 1
}

//go:noinline
func lockMutex() {
	started.Done()
	mu.Lock()
}

//go:noinline
func readLock() {
	started.Done()
	rw.RLock()
}

//go:noinline
func selectWait(other chan int) {
	started.Done()
	select {
	case <-never:
	case <-other:
	}
}

//go:noinline
func sleeper() {
	started.Done()
	time.Sleep(24 * time.Hour)
}

//go:noinline
func waitGroupWait() {
	started.Done()
	blockers.Wait()
}

//go:noinline
func condWait() {
	cond.L.Lock()
	started.Done()
	for {
		cond.Wait()
	}
}

//go:noinline
func recurse(depth int) {
	if depth == 0 {
		blockOnChan()
		return
	}
	recurse(depth - 1)
}

//go:noinline
func labeledWorker() {
	started.Done()
	<-never
}

// spawner creates its own children (their parent is not main) and parks.
//
//go:noinline
func spawner(children int) {
	for i := 0; i < children; i++ {
		go childBlock()
	}
	started.Done()
	<-never
}

//go:noinline
func childBlock() {
	started.Done()
	<-never
}

func main() {
	profile := flag.String("profile", "", "where to write Go's goroutine profile (debug=1)")
	scale := flag.Int("scale", 1, "multiplies every group's size")
	sharedLabels := flag.Int("shared-labels", 0, "goroutines more that share one large label set "+
		"(64 labels of 4000-byte values, the most gspy reads), as a tenant could start them")
	flag.Parse()
	if *profile == "" {
		fmt.Fprintln(os.Stderr, "goroutines: -profile is required")
		os.Exit(2)
	}
	mu.Lock()
	rw.Lock()
	blockers.Add(1)
	other := make(chan int)
	n := *scale
	spawn := func(count int, f func()) {
		started.Add(count)
		for i := 0; i < count; i++ {
			go f()
		}
	}
	spawn(1000*n, blockOnChan)
	spawn(400*n, sendOnChan)
	spawn(300*n, lockMutex)
	spawn(150*n, readLock)
	spawn(300*n, func() { selectWait(other) })
	spawn(200*n, sleeper)
	spawn(200*n, waitGroupWait)
	spawn(100*n, condWait)
	spawn(100*n, func() { recurse(5) })
	// Labels: four shards of 100, through pprof.Do (the labels are inherited
	// by the goroutine pprof.Do's callback starts).
	for shard := 0; shard < 4; shard++ {
		labels := pprof.Labels("worker", "labeled", "shard", strconv.Itoa(shard))
		pprof.Do(context.Background(), labels, func(context.Context) {
			spawn(100*n, labeledWorker)
		})
	}
	if *sharedLabels > 0 {
		var kv []string
		for i := 0; i < 64; i++ {
			kv = append(kv, fmt.Sprintf("key%02d", i), strings.Repeat(string(rune('a'+i%26)), 4000))
		}
		pprof.Do(context.Background(), pprof.Labels(kv...), func(context.Context) {
			spawn(*sharedLabels, labeledWorker)
		})
	}
	started.Add(1 + 100*n) // the spawner and its children
	go spawner(100 * n)
	started.Wait()
	// Done() comes just before each park: give the last ones time to park.
	for i := 0; i < 50; i++ {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
	f, err := os.Create(*profile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := pprof.Lookup("goroutine").WriteTo(f, 1); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	f.Close()
	ready := map[string]any{
		"event": "ready", "pid": os.Getpid(), "go_version": runtime.Version(),
		"goroutines": runtime.NumGoroutine(),
	}
	// Go 1.26+ counts goroutines by state (system ones included); older
	// releases leave these out of the event.
	states := []metrics.Sample{
		{Name: "/sched/goroutines:goroutines"},
		{Name: "/sched/goroutines/waiting:goroutines"},
		{Name: "/sched/goroutines/running:goroutines"},
		{Name: "/sched/goroutines/runnable:goroutines"},
		{Name: "/sched/goroutines/not-in-go:goroutines"},
	}
	metrics.Read(states)
	for _, st := range states {
		if st.Value.Kind() == metrics.KindUint64 {
			ready[st.Name] = st.Value.Uint64()
		}
	}
	json.NewEncoder(os.Stdout).Encode(ready)
	bufio.NewReader(os.Stdin).ReadString('\n')
}
