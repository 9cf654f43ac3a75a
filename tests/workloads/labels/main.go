// labels: burns CPU under more pprof labels, and longer ones, than gspy's BPF
// program reads, so a test can check the stated limits: 8 labels a sample,
// keys cut at 32 bytes and values at 64.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"
)

//go:noinline
func spinLabelled(deadline time.Time) uint64 {
	var x uint64 = 1
	for time.Now().Before(deadline) {
		for i := 0; i < 100000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long to spin")
	count := flag.Int("labels", 10, "how many labels to set")
	flag.Parse()

	var kv []string
	for i := 0; i < *count; i++ {
		// Keys sort as k00.., k01.., so the first eight by key are known.
		key := fmt.Sprintf("k%02d", i)
		value := fmt.Sprintf("v%02d", i)
		if i == 0 {
			key += strings.Repeat("K", 40)   // 43 bytes: cut to 32
			value += strings.Repeat("V", 90) // 93 bytes: cut to 64
		}
		kv = append(kv, key, value)
	}
	deadline := time.Now().Add(*duration)
	json.NewEncoder(os.Stdout).Encode(map[string]any{"event": "ready", "pid": os.Getpid()})
	var sink uint64
	pprof.Do(context.Background(), pprof.Labels(kv...), func(context.Context) {
		sink = spinLabelled(deadline)
	})
	json.NewEncoder(os.Stdout).Encode(map[string]any{"event": "done", "sink": sink})
}
