// blockwork: goroutines that wait for known durations, for gspy's block
// profile tests.
//
// It prints {"event":"ready","pid":N} and waits for a line on stdin (the test
// sends it once gspy's block probes are attached; stdin is read with a plain
// blocking read, which parks no goroutine). Then five scenarios run at once,
// each in its own goroutine with pprof label scenario=NAME, each doing
// -waits waits of -wait (or, with -for, as many as fit in that time): a
// channel receive, a select, a sync.Mutex lock, a
// time.Sleep, and a TCP read on loopback. Every wake-up comes from a timer
// callback (time.AfterFunc), so no other goroutine of the workload parks
// for the scenarios. Each scenario measures its own waits around the
// blocking call: that is the truth gspy's delays are compared with. With
// -blockprofile=FILE it also writes Go's own block profile (rate 1) of the
// same window. It prints {"event":"done","truth":{...}} and exits.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"
)

type measured struct {
	Count   int   `json:"count"`
	TotalNs int64 `json:"total_ns"`
}

type scenario struct {
	name string
	// run does one wait of about d and returns how long the blocking call
	// took.
	run func(d time.Duration) time.Duration
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

//go:noinline
func chanReceive(d time.Duration) time.Duration {
	ch := make(chan int, 1)
	time.AfterFunc(d, func() { ch <- 1 })
	return timed(func() { <-ch })
}

//go:noinline
func selectWait(d time.Duration) time.Duration {
	a, b := make(chan int, 1), make(chan int, 1)
	time.AfterFunc(d, func() { b <- 1 })
	return timed(func() {
		select {
		case <-a:
		case <-b:
		}
	})
}

//go:noinline
func mutexLock(d time.Duration) time.Duration {
	var mu sync.Mutex
	mu.Lock()
	// sync.Mutex may be unlocked by another goroutine than the locker.
	time.AfterFunc(d, mu.Unlock)
	took := timed(mu.Lock)
	mu.Unlock()
	return took
}

//go:noinline
func sleep(d time.Duration) time.Duration {
	return timed(func() { time.Sleep(d) })
}

type tcpPair struct{ client, server net.Conn }

func newTCPPair() (*tcpPair, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, err
	}
	server, err := ln.Accept()
	if err != nil {
		return nil, err
	}
	return &tcpPair{client, server}, nil
}

//go:noinline
func (p *tcpPair) netRead(d time.Duration) time.Duration {
	time.AfterFunc(d, func() { p.server.Write([]byte{1}) })
	var buf [1]byte
	return timed(func() {
		if _, err := p.client.Read(buf[:]); err != nil {
			fmt.Fprintln(os.Stderr, "blockwork: read:", err)
			os.Exit(2)
		}
	})
}

var (
	spinSink uint64
	spinTook time.Duration
)

func main() {
	waits := flag.Int("waits", 40, "waits per scenario")
	wait := flag.Duration("wait", 25*time.Millisecond, "length of each wait")
	blockProfile := flag.String("blockprofile", "", "write Go's block profile of the window here")
	spin := flag.Duration("spin", 0, "also run a goroutine (scenario=spin) that burns CPU for this long (wall time); its truth is the CPU time it got")
	runFor := flag.Duration("for", 0, "instead of -waits, wait again until this long has passed")
	flag.Parse()

	tcp, err := newTCPPair()
	if err != nil {
		fmt.Fprintln(os.Stderr, "blockwork: loopback TCP:", err)
		os.Exit(2)
	}
	scenarios := []scenario{
		{"chan", chanReceive},
		{"select", selectWait},
		{"mutex", mutexLock},
		{"sleep", sleep},
		{"net", tcp.netRead},
	}

	out := json.NewEncoder(os.Stdout)
	out.Encode(map[string]any{"event": "ready", "pid": os.Getpid(), "go_version": runtime.Version()})
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintf(os.Stderr, "blockwork: waiting for the go line: %v\n", err)
		os.Exit(2)
	}
	if *blockProfile != "" {
		runtime.SetBlockProfileRate(1)
	}

	truth := make([]measured, len(scenarios))
	done := make(chan int, len(scenarios)+1)
	for i, s := range scenarios {
		i, s := i, s // go.mod says 1.18: loop variables are shared
		go pprof.Do(context.Background(), pprof.Labels("scenario", s.name), func(context.Context) {
			start := time.Now()
			for n := 0; ; n++ {
				if *runFor > 0 && time.Since(start) >= *runFor || *runFor == 0 && n >= *waits {
					break
				}
				truth[i].Count++
				truth[i].TotalNs += int64(s.run(*wait))
			}
			done <- i
		})
	}
	spinning := 0
	if *spin > 0 {
		spinning = 1
		go pprof.Do(context.Background(), pprof.Labels("scenario", "spin"), func(context.Context) {
			// The truth is the CPU time the spin got, not its wall time:
			// a profile sees a goroutine running only while its thread is
			// on a CPU, and on a busy machine the thread waits for one. The
			// goroutine keeps its thread, so the thread's CPU time is its.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := threadCPU()
			start := time.Now()
			x := uint64(1)
			for time.Since(start) < *spin {
				for i := 0; i < 1000; i++ {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			spinSink = x
			spinTook = threadCPU() - cpu0
			done <- -1
		})
	}
	for n := 0; n < len(scenarios)+spinning; n++ {
		<-done
	}
	if *blockProfile != "" {
		runtime.SetBlockProfileRate(0)
		f, err := os.Create(*blockProfile)
		if err == nil {
			err = pprof.Lookup("block").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "blockwork: block profile:", err)
			os.Exit(2)
		}
	}
	result := map[string]measured{}
	for i, s := range scenarios {
		result[s.name] = truth[i]
	}
	if *spin > 0 {
		result["spin"] = measured{Count: 1, TotalNs: int64(spinTook)}
	}
	out.Encode(map[string]any{"event": "done", "truth": result})
}

// threadCPU is the calling thread's CPU time (user and system) so far.
func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD (Linux); not in package syscall
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "blockwork: getrusage:", err)
		os.Exit(2)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
