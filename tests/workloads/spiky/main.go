// spiky: a quiet service that leaks goroutines on demand, for gspy's
// captures that fire on their own (gspyd --capture-rule).
//
// It runs a few workers, prints {"event":"ready","pid":N,"go_version":V},
// and on each SIGUSR1 starts -leak goroutines in main.guiltyLeak that park
// forever on a channel nobody sends on (the guilty ones), then prints
// {"event":"leaked","n":TOTAL,"unix_nanos":T} once they have all started;
// on each SIGUSR2 it does what -usr2 says:
//   - gc (the default): runs a garbage collection (runtime.GC: stop-the-world
//     pauses) and prints {"event":"gc","unix_nanos":T};
//   - spin: starts -spinners goroutines that spin in main.guiltySpin without
//     end; with -gomaxprocs=1 they queue for the one P, so scheduling
//     latency soars; prints {"event":"spinning","n":N,"unix_nanos":T};
//   - burn: starts -burners goroutines that burn CPU in main.guiltyBurn
//     without end; prints {"event":"burning","n":N,"unix_nanos":T}.
//
// It runs until killed or stdin closes.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var never = make(chan struct{})

// guiltyLeak waits for a reply that never comes.
//
//go:noinline
func guiltyLeak(started *sync.WaitGroup) {
	started.Done()
	<-never
}

// spinSink keeps the loops' work from being optimised away.
var spinSink atomic.Uint64

// guiltySpin never yields: with one P, every other runnable goroutine waits
// until the runtime preempts it (about every 10 ms).
//
//go:noinline
func guiltySpin(seed uint64) {
	x := seed
	for {
		for i := 0; i < 1_000_000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		spinSink.Store(x)
	}
}

// guiltyBurn burns CPU.
//
//go:noinline
func guiltyBurn(seed uint64) {
	x := seed
	for {
		for i := 0; i < 1_000_000; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		spinSink.Store(x)
	}
}

// quietWorker is the steady background: a little work now and then.
//
//go:noinline
func quietWorker(jobs <-chan int) {
	for j := range jobs {
		_ = j * j
	}
}

func main() {
	leak := flag.Int("leak", 5000, "goroutines leaked per SIGUSR1")
	usr2 := flag.String("usr2", "gc", "what SIGUSR2 does: gc, spin or burn")
	spinners := flag.Int("spinners", 50, "goroutines -usr2=spin starts")
	burners := flag.Int("burners", 2, "goroutines -usr2=burn starts")
	procs := flag.Int("gomaxprocs", 0, "runtime.GOMAXPROCS; 0: Go's default")
	flag.Parse()
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	out := json.NewEncoder(os.Stdout)
	jobs := make(chan int)
	for i := 0; i < 4; i++ {
		go quietWorker(jobs)
	}
	go func() {
		for i := 0; ; i++ {
			jobs <- i
			time.Sleep(10 * time.Millisecond)
		}
	}()
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		// Stdin closed: the test is gone.
		bufio.NewReader(os.Stdin).ReadString('\n')
		os.Exit(0)
	}()
	out.Encode(map[string]any{"event": "ready", "pid": os.Getpid(),
		"go_version": runtime.Version()})
	total := 0
	for sig := range signals {
		if sig == syscall.SIGUSR2 && *usr2 == "spin" {
			for i := 0; i < *spinners; i++ {
				go guiltySpin(uint64(i))
			}
			out.Encode(map[string]any{"event": "spinning", "n": *spinners,
				"unix_nanos": time.Now().UnixNano()})
			continue
		}
		if sig == syscall.SIGUSR2 && *usr2 == "burn" {
			for i := 0; i < *burners; i++ {
				go guiltyBurn(uint64(i))
			}
			out.Encode(map[string]any{"event": "burning", "n": *burners,
				"unix_nanos": time.Now().UnixNano()})
			continue
		}
		if sig == syscall.SIGUSR2 {
			runtime.GC()
			out.Encode(map[string]any{"event": "gc",
				"unix_nanos": time.Now().UnixNano()})
			continue
		}
		var started sync.WaitGroup
		started.Add(*leak)
		for i := 0; i < *leak; i++ {
			go guiltyLeak(&started)
		}
		started.Wait()
		total += *leak
		out.Encode(map[string]any{"event": "leaked", "n": total,
			"unix_nanos": time.Now().UnixNano()})
	}
}
