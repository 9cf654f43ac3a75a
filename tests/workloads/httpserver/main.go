// httpserver: a small net/http server for gspy's overhead benchmark
// (bench/http_overhead.sh).
//
// It listens on -addr (default 127.0.0.1:0, a free port), prints
// {"event":"ready","pid":N,"port":P,"gomaxprocs":G,"go_version":V} on stdout
// and serves until SIGTERM or SIGINT, then prints
// {"event":"done","requests":N} and exits.
//
// GET /work?n=K does some real work per request, chosen so that the
// scheduler and the GC are busy, as in a typical service:
//   - builds a small record (K items, small allocations: a slice, a map and
//     strings),
//   - hands it over a channel to one of -workers worker goroutines and
//     waits for the answer on a per-request channel (a park and a wake-up on
//     each side: runtime.gopark, runtime.ready, runtime.execute),
//   - the worker hashes it under a shared sync.Mutex-protected statistics
//     map,
//   - the handler JSON-encodes the answer into the response.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	// Linked as most servers link it: the runtime then keeps its heap
	// profile (MemProfileRate 512 KiB), which gspy reads. Its handlers go
	// to http.DefaultServeMux, which this server does not serve.
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
)

type item struct {
	ID    int               `json:"id"`
	Name  string            `json:"name"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs"`
}

type job struct {
	items []item
	reply chan result
}

type result struct {
	Hash   uint64 `json:"hash"`
	Items  []item `json:"items"`
	Served int64  `json:"served"`
}

var (
	statsMu sync.Mutex
	stats   = map[string]int64{}
	served  atomic.Int64
)

func worker(jobs <-chan job) {
	for j := range jobs {
		h := fnv.New64a()
		for _, it := range j.items {
			h.Write([]byte(it.Name))
			for _, t := range it.Tags {
				h.Write([]byte(t))
			}
		}
		sum := h.Sum64()
		statsMu.Lock()
		stats[j.items[0].Tags[sum%uint64(len(j.items[0].Tags))]]++
		statsMu.Unlock()
		j.reply <- result{Hash: sum, Items: j.items, Served: served.Add(1)}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	workers := flag.Int("workers", 4, "worker goroutines")
	flag.Parse()

	jobs := make(chan job)
	for i := 0; i < *workers; i++ {
		go worker(jobs)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n <= 0 || n > 1000 {
			n = 8
		}
		items := make([]item, n)
		for i := range items {
			items[i] = item{
				ID:    i,
				Name:  "item-" + strconv.Itoa(i),
				Tags:  []string{"a" + strconv.Itoa(i%3), "b" + strconv.Itoa(i%5), "c"},
				Attrs: map[string]string{"path": r.URL.Path, "k": strconv.Itoa(i * 7)},
			}
		}
		reply := make(chan result, 1)
		jobs <- job{items: items, reply: reply}
		res := <-reply
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(res); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "httpserver: %v\n", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: mux}
	out := json.NewEncoder(os.Stdout)
	out.Encode(map[string]any{
		"event": "ready", "pid": os.Getpid(), "port": ln.Addr().(*net.TCPAddr).Port,
		"gomaxprocs": runtime.GOMAXPROCS(0), "go_version": runtime.Version(),
	})

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		srv.Shutdown(context.Background())
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "httpserver: %v\n", err)
		os.Exit(1)
	}
	out.Encode(map[string]any{"event": "done", "requests": served.Load()})
}
