// leaky: a goroutine leak at a known rate, hidden in steady churn, for
// gspy's leak detection test (gspy goroutines --watch).
//
// With -leak-rate=R > 0, main.leakyHandler is called R times a second and
// each call starts main.waitForReply, which waits on a channel nobody ever
// sends on: the leak, one code path. Around it runs what a naive
// "more goroutines now than before" check would flag:
//   - short-lived tasks (main.shortTask), started every 2 ms, each living
//     0-30 ms;
//   - request-like goroutines (main.handleRequest) arriving at a rate that
//     swings between 20/s and 180/s with a 4 s period, each living 0.5-1.5 s;
//   - batches (main.batchItem, created by main.runBatches): every 5 s, 15
//     goroutines a second park on a channel receive for 4 s, like the leak,
//     and are then all released;
//   - a fixed pool of workers (main.poolWorker) fed small jobs.
//
// It warms up for 2 s (leaking already) so the churn is at its steady
// state, prints {"event":"ready","pid":N,"go_version":V}, then every 250 ms
// {"event":"leaked","n":N,"unix_nanos":T}: how many leaked goroutines have
// started (each counts itself just before it parks), so the test measures
// the true rate over its own window. It runs until killed or stdin closes.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"math"
	"math/rand"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

var leaked int64

// waitForReply waits for a reply that never comes: the leaked goroutine.
//
//go:noinline
func waitForReply(reply chan int) {
	atomic.AddInt64(&leaked, 1)
	<-reply
}

// leakyHandler forgets the goroutine it starts: nothing ever sends on reply.
//
//go:noinline
func leakyHandler(replies *[]chan int) {
	reply := make(chan int)
	// Kept reachable, as a real leak's channel often is (a map of
	// pending calls), so no runtime leak detector could free it.
	*replies = append(*replies, reply)
	go waitForReply(reply)
}

func leak(rate float64) {
	var replies []chan int
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	for range t.C {
		leakyHandler(&replies)
	}
}

//go:noinline
func shortTask(d time.Duration) {
	time.Sleep(d)
}

func churn() {
	for {
		go shortTask(time.Duration(rand.Intn(30)) * time.Millisecond)
		time.Sleep(2 * time.Millisecond)
	}
}

//go:noinline
func handleRequest(d time.Duration, done chan struct{}) {
	select {
	case <-time.After(d):
	case <-done:
	}
}

// requests arrive at 100 + 80 sin(2 pi t / 4 s) a second.
func requests() {
	start := time.Now()
	done := make(chan struct{})
	due := 0.0
	for {
		t := time.Since(start).Seconds()
		due += (100 + 80*math.Sin(2*math.Pi*t/4)) * 0.01
		for ; due >= 1; due-- {
			d := 500*time.Millisecond + time.Duration(rand.Intn(1000))*time.Millisecond
			go handleRequest(d, done)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

//go:noinline
func batchItem(release chan struct{}) {
	<-release
}

func runBatches() {
	for {
		release := make(chan struct{})
		for i := 0; i < 60; i++ { // 15/s for 4 s
			go batchItem(release)
			time.Sleep(time.Second / 15)
		}
		close(release)
		time.Sleep(time.Second)
	}
}

//go:noinline
func poolWorker(jobs chan int, sink *int64) {
	for n := range jobs {
		s := int64(0)
		for i := 0; i < n; i++ {
			s += int64(i * i)
		}
		atomic.AddInt64(sink, s)
	}
}

func pool() {
	jobs := make(chan int)
	var sink int64
	for i := 0; i < 8; i++ {
		go poolWorker(jobs, &sink)
	}
	for {
		jobs <- 2000
		time.Sleep(time.Millisecond)
	}
}

func main() {
	rate := flag.Float64("leak-rate", 20, "leaked goroutines a second (0: no leak)")
	flag.Parse()
	if *rate > 0 {
		go leak(*rate)
	}
	go churn()
	go requests()
	go runBatches()
	go pool()
	time.Sleep(2 * time.Second)

	enc := json.NewEncoder(os.Stdout)
	enc.Encode(map[string]any{"event": "ready", "pid": os.Getpid(), "go_version": runtime.Version()})
	go func() {
		for {
			enc.Encode(map[string]any{"event": "leaked", "n": atomic.LoadInt64(&leaked), "unix_nanos": time.Now().UnixNano()})
			time.Sleep(250 * time.Millisecond)
		}
	}()
	// Until stdin closes (the test ends) or a kill.
	bufio.NewReader(os.Stdin).ReadString('\n')
}
