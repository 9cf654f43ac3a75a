// churnwork: the Go program of bench/churn_soak.sh. Short-lived by default
// (a CI job's test binary: a few goroutines, some allocation, gone in
// -life); -life=0 keeps it running as a steady target until killed.
package main

import (
	"flag"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

var sink [][]byte

//go:noinline
func work(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i
	}
	return s
}

func main() {
	life := flag.Duration("life", 2*time.Second, "how long to run; 0: until killed")
	flag.Parse()
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					work(20000)
					mu.Lock()
					sink = append(sink, make([]byte, 4096))
					if len(sink) > 256 {
						sink = sink[:0]
					}
					mu.Unlock()
				}
			}
		}()
	}
	if *life > 0 {
		time.Sleep(*life)
	} else {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		<-c
	}
	close(stop)
	wg.Wait()
}
