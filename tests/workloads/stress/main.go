// stress: a Go program that is hard on the runtime, for gspy's safety test
// (tests/e2e/safety_test.go): its result must not change while gspy attaches
// and detaches uprobes to it over and over.
//
// It prints {"event":"ready","pid":N,"go_version":V}, then runs rounds. In
// each round -goroutines goroutines (10000) start behind a closed-channel
// gate (all park, all wake), and each, from its own fixed seed:
//   - allocates a linked list of small nodes and byte slices and hashes it,
//   - hands a job to one of -workers worker goroutines over an unbuffered
//     channel and waits for the answer on its own channel,
//   - adds to a sync.Mutex-protected map shared by all,
//   - sleeps 0-2 ms,
//   - then recurses deeply, three times, with a large frame, yielding at the
//     bottom (its stack grows by morestack again and again; the GC shrinks
//     it in between), at most -deep goroutines at once (a channel
//     semaphore: more parks and wake-ups), and ends.
//
// The round's checksum combines every goroutine's result with commutative
// operations and the shared map in key order, so it depends only on -seed
// and -goroutines, never on scheduling. Each round prints
// {"event":"round","round":i,"checksum":"%016x"}; every round computes the
// same checksum.
//
// With -rounds=N it runs N rounds; with -rounds=0 it runs until a line
// "stop" on stdin, then finishes the round under way. Then it prints
// {"event":"done","rounds":n,"checksum":C,"all_equal":bool} and exits 0.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// splitmix64: a small deterministic generator per goroutine.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// recurse uses a 512-byte frame, so depth 400 needs a 200+ KiB stack:
// the goroutine's 8 KiB stack is grown (copied) by morestack five times.
//
//go:noinline
func recurse(n int, acc uint64) uint64 {
	var buf [64]uint64
	for i := range buf {
		buf[i] = acc + uint64(i*n)
	}
	if n == 0 {
		runtime.Gosched() // off the CPU with a deep stack
		return acc ^ buf[63]
	}
	r := recurse(n-1, acc*31+buf[n%64])
	return r + buf[(n*7)%64]
}

type node struct {
	next *node
	data []byte
	v    uint64
}

//go:noinline
func allocate(r *rng, n int) uint64 {
	var head *node
	for i := 0; i < n; i++ {
		b := make([]byte, 16+r.next()%112)
		for j := range b {
			b[j] = byte(r.next())
		}
		head = &node{next: head, data: b, v: r.next()}
	}
	h := fnv.New64a()
	for p := head; p != nil; p = p.next {
		h.Write(p.data)
		var w [8]byte
		for k := 0; k < 8; k++ {
			w[k] = byte(p.v >> (8 * k))
		}
		h.Write(w[:])
	}
	return h.Sum64()
}

type job struct {
	x     uint64
	reply chan uint64
}

func worker(jobs <-chan job) {
	for j := range jobs {
		x := j.x
		for k := 0; k < 64; k++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		j.reply <- x
	}
}

type config struct {
	goroutines, deep, workers, depth, allocs int
	seed                                     uint64
}

func round(c config) uint64 {
	jobs := make(chan job)
	for i := 0; i < c.workers; i++ {
		go worker(jobs)
	}
	defer close(jobs)
	sem := make(chan struct{}, c.deep)
	gate := make(chan struct{})
	var (
		mu     sync.Mutex
		shared = map[uint64]uint64{}
		sum    atomic.Uint64
		xor    atomic.Uint64
		wg     sync.WaitGroup
	)
	wg.Add(c.goroutines)
	for i := 0; i < c.goroutines; i++ {
		go func(i int) {
			defer wg.Done()
			r := rng(c.seed*1_000_003 + uint64(i))
			<-gate
			h := allocate(&r, c.allocs)
			reply := make(chan uint64)
			jobs <- job{x: h, reply: reply}
			h += <-reply
			mu.Lock()
			shared[h%1021] += h >> 7
			mu.Unlock()
			time.Sleep(time.Duration(r.next()%3) * time.Millisecond)
			// Deep stacks last: the goroutine ends soon after, so at most
			// c.deep large stacks exist at once.
			sem <- struct{}{}
			for k := 0; k < 3; k++ {
				h = h*31 + recurse(c.depth/2+int(r.next()%uint64(c.depth)), r.next())
				runtime.Gosched()
			}
			<-sem
			sum.Add(h)
			for {
				old := xor.Load()
				if xor.CompareAndSwap(old, old^(h*0x2545f4914f6cdd1d)) {
					break
				}
			}
		}(i)
	}
	close(gate)
	wg.Wait()
	keys := make([]uint64, 0, len(shared))
	for k := range shared {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a] < keys[b] })
	f := fnv.New64a()
	put := func(v uint64) {
		var w [8]byte
		for k := 0; k < 8; k++ {
			w[k] = byte(v >> (8 * k))
		}
		f.Write(w[:])
	}
	put(sum.Load())
	put(xor.Load())
	for _, k := range keys {
		put(k)
		put(shared[k])
	}
	return f.Sum64()
}

func main() {
	var c config
	flag.IntVar(&c.goroutines, "goroutines", 10000, "goroutines per round")
	flag.IntVar(&c.deep, "deep", 64, "goroutines recursing at once")
	flag.IntVar(&c.workers, "workers", 16, "worker goroutines")
	flag.IntVar(&c.depth, "depth", 400, "recursion depth (each recursion is depth/2 + [0, depth))")
	flag.IntVar(&c.allocs, "allocs", 64, "nodes allocated per goroutine")
	flag.Uint64Var(&c.seed, "seed", 1, "seed")
	rounds := flag.Int("rounds", 1, "rounds to run; 0: until a line \"stop\" on stdin")
	flag.Parse()

	out := json.NewEncoder(os.Stdout)
	out.Encode(map[string]any{"event": "ready", "pid": os.Getpid(), "go_version": runtime.Version()})
	var stop atomic.Bool
	if *rounds == 0 {
		go func() {
			sc := bufio.NewScanner(os.Stdin)
			for sc.Scan() {
				if sc.Text() == "stop" {
					break
				}
			}
			stop.Store(true)
		}()
	}
	var first uint64
	allEqual := true
	n := 0
	for ; (*rounds > 0 && n < *rounds) || (*rounds == 0 && !stop.Load()); n++ {
		start := time.Now()
		sum := round(c)
		if n == 0 {
			first = sum
		} else if sum != first {
			allEqual = false
		}
		out.Encode(map[string]any{"event": "round", "round": n, "checksum": fmt.Sprintf("%016x", sum),
			"seconds": time.Since(start).Seconds()})
	}
	out.Encode(map[string]any{"event": "done", "rounds": n, "checksum": fmt.Sprintf("%016x", first), "all_equal": allEqual})
}
