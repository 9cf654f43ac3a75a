// spiky: a quiet service that leaks goroutines on demand, for gspy's
// captures that fire on their own (gspyd --capture-rule).
//
// It runs a few workers, prints {"event":"ready","pid":N,"go_version":V},
// and on each SIGUSR1 starts -leak goroutines in main.guiltyLeak that park
// forever on a channel nobody sends on (the guilty ones), then prints
// {"event":"leaked","n":TOTAL,"unix_nanos":T} once they have all started;
// on each SIGUSR2 it runs a garbage collection (runtime.GC: stop-the-world
// pauses) and prints {"event":"gc","unix_nanos":T}.
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
	flag.Parse()
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
