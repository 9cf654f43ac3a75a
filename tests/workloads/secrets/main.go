// secrets: a workload whose profiles hold things an operator may want
// redacted: main.handleSecretToken, the file secrets.go and the pprof label
// user=alice@example.com. It burns CPU and blocks under that label, leaks a
// few goroutines created from secrets.go, and prints its goroutine ids so a
// test can tell them from anonymized ones.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

// goid parses the current goroutine's id from its traceback header
// ("goroutine 18 [running]:").
func goid() int64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	n, _ := strconv.ParseInt(string(buf[:bytes.IndexByte(buf, ' ')]), 10, 64)
	return n
}

func main() {
	duration := flag.Duration("duration", 20*time.Second, "how long to run")
	leaks := flag.Int("leaks", 20, "goroutines leaked, one every 200ms")
	flag.Parse()
	deadline := time.Now().Add(*duration)

	goids := make(chan [2]int64, 2)
	labels := pprof.Labels("user", "alice@example.com", "route", "/login")
	go pprof.Do(context.Background(), labels, func(context.Context) {
		goids <- [2]int64{0, goid()}
		handleSecretToken(deadline)
	})
	tick := time.NewTicker(5 * time.Millisecond)
	go pprof.Do(context.Background(), labels, func(context.Context) {
		goids <- [2]int64{1, goid()}
		handleSecretTokenWait(deadline, tick.C)
	})
	ids := map[string]int64{}
	for i := 0; i < 2; i++ {
		g := <-goids
		ids[[]string{"burner", "waiter"}[g[0]]] = g[1]
	}
	ids["main"] = goid()
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"event": "ready", "pid": os.Getpid(), "goids": ids})

	never := make(chan struct{})
	for i := 0; i < *leaks && time.Now().Before(deadline); i++ {
		pprof.Do(context.Background(), labels, func(context.Context) {
			handleSecretTokenSpawn(never)
		})
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Until(deadline))
	json.NewEncoder(os.Stdout).Encode(map[string]any{"event": "done"})
}
