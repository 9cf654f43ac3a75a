// loadgen: an open-loop HTTP load generator for bench/goroutine_snapshot.sh.
//
// It sends GET -url at a fixed -rate for -duration, whatever the server
// does: request i is due at start + i/rate and is sent then (or as soon as
// the sender can), on its own goroutine, and its latency runs from when it
// was due to when its whole response has been read. A closed-loop client
// (wrk) waits for each answer before sending the next, so while a server
// stops for 500 ms it sends nothing and records one slow request instead
// of the 500 a steady stream of users would have seen (coordinated
// omission); timing from the due time counts all of them.
//
// While the load runs it can take a snapshot every -snapshot-every: GET
// -snapshot-url (the body read and dropped), or run -snapshot-cmd (split on
// spaces, output dropped), timing each. A snapshot that takes longer than
// the period is followed by the next at once.
//
// Before and after the window it reads the server's /pauses (runtime/metrics
// stop-the-world histograms) and reports the pauses in between.
//
// Output: one JSON line on stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"
)

type histogram struct {
	Counts  []uint64  `json:"counts"`
	Buckets []float64 `json:"buckets"`
}

// pauseStats summarizes the pauses of a histogram delta. Go's histograms
// keep buckets, not values: the largest pause is known to a bucket,
// [max_lo_ms, max_hi_ms), and the sum is estimated from bucket midpoints.
type pauseStats struct {
	Count   uint64  `json:"count"`
	SumMs   float64 `json:"sum_ms"`
	MaxLoMs float64 `json:"max_lo_ms"`
	MaxHiMs float64 `json:"max_hi_ms"`
}

func readPauses(client *http.Client, base string) (map[string]histogram, error) {
	resp, err := client.Get(base + "/pauses")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]histogram
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

func pauseDelta(before, after histogram) pauseStats {
	var s pauseStats
	if len(before.Counts) != len(after.Counts) {
		return s
	}
	for i := range after.Counts {
		d := after.Counts[i] - before.Counts[i]
		if d == 0 {
			continue
		}
		lo, hi := after.Buckets[i], after.Buckets[i+1]
		mid := (lo + hi) / 2
		if hi >= 1e9 {
			mid = lo
		}
		s.Count += d
		s.SumMs += float64(d) * mid * 1e3
		s.MaxLoMs, s.MaxHiMs = lo*1e3, hi*1e3
	}
	return s
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

type result struct {
	Mode        string                `json:"mode"`
	Rate        int                   `json:"rate"`
	DurationS   float64               `json:"duration_s"`
	Sent        int                   `json:"sent"`
	Errors      int                   `json:"errors"`
	FirstError  string                `json:"first_error,omitempty"`
	P50Ms       float64               `json:"p50_ms"`
	P99Ms       float64               `json:"p99_ms"`
	P999Ms      float64               `json:"p999_ms"`
	MaxMs       float64               `json:"max_ms"`
	SendLagMs   float64               `json:"send_lag_max_ms"` // the sender's own lateness
	Snapshots   int                   `json:"snapshots"`
	SnapErrors  int                   `json:"snapshot_errors"`
	SnapMedMs   float64               `json:"snapshot_median_ms"`
	SnapMaxMs   float64               `json:"snapshot_max_ms"`
	Pauses      map[string]pauseStats `json:"pauses"`
	PausesError string                `json:"pauses_error,omitempty"`
}

func main() {
	url := flag.String("url", "", "server base URL, e.g. http://127.0.0.1:8080")
	path := flag.String("path", "/", "the timed request's path")
	rate := flag.Int("rate", 1000, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "load window")
	mode := flag.String("mode", "", "name for the output")
	snapURL := flag.String("snapshot-url", "", "GET this every -snapshot-every")
	snapCmd := flag.String("snapshot-cmd", "", "run this (split on spaces) every -snapshot-every")
	snapEvery := flag.Duration("snapshot-every", time.Second, "snapshot period")
	flag.Parse()
	if *url == "" || *rate <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -url and a positive -rate are required")
		os.Exit(2)
	}
	client := &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: 512,
			MaxConnsPerHost:     512,
			DisableCompression:  true,
		},
	}
	res := result{Mode: *mode, Rate: *rate, DurationS: duration.Seconds()}
	before, err := readPauses(client, *url)
	if err != nil {
		res.PausesError = err.Error()
	}

	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var snapMs []float64
	snapDone := make(chan struct{})
	go func() {
		defer close(snapDone)
		if *snapURL == "" && *snapCmd == "" {
			return
		}
		// The first snapshot half a period in, so each falls inside the window.
		next := time.Now().Add(*snapEvery / 2)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			t0 := time.Now()
			var err error
			if *snapURL != "" {
				var resp *http.Response
				if resp, err = client.Get(*snapURL); err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			} else {
				args := strings.Fields(*snapCmd)
				err = exec.Command(args[0], args[1:]...).Run()
			}
			if err != nil {
				res.SnapErrors++
				fmt.Fprintf(os.Stderr, "loadgen: snapshot: %v\n", err)
			} else {
				snapMs = append(snapMs, float64(time.Since(t0))/1e6)
			}
			next = next.Add(*snapEvery)
		}
	}()

	interval := time.Second / time.Duration(*rate)
	total := int(int64(*duration) / int64(interval))
	lat := make([]float64, total)
	failed := make([]bool, total)
	var errMu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		if lag := float64(time.Since(due)) / 1e6; lag > res.SendLagMs {
			res.SendLagMs = lag
		}
		wg.Add(1)
		go func(i int, due time.Time) {
			defer wg.Done()
			resp, err := client.Get(*url + *path)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %s", resp.Status)
				}
			}
			lat[i] = float64(time.Since(due)) / 1e6
			if err != nil {
				failed[i] = true
				errMu.Lock()
				if res.FirstError == "" {
					res.FirstError = err.Error()
				}
				errMu.Unlock()
			}
		}(i, due)
	}
	wg.Wait()
	cancel()
	<-snapDone
	if before != nil {
		after, err := readPauses(client, *url)
		if err != nil {
			res.PausesError = err.Error()
		} else {
			res.Pauses = map[string]pauseStats{}
			for k, a := range after {
				res.Pauses[k] = pauseDelta(before[k], a)
			}
		}
	}

	var ok []float64
	for i, l := range lat {
		if failed[i] {
			res.Errors++
			continue
		}
		ok = append(ok, l)
	}
	sort.Float64s(ok)
	res.Sent = total
	res.P50Ms = percentile(ok, 0.50)
	res.P99Ms = percentile(ok, 0.99)
	res.P999Ms = percentile(ok, 0.999)
	if len(ok) > 0 {
		res.MaxMs = ok[len(ok)-1]
	}
	res.Snapshots = len(snapMs)
	sort.Float64s(snapMs)
	res.SnapMedMs = percentile(snapMs, 0.5)
	if len(snapMs) > 0 {
		res.SnapMaxMs = snapMs[len(snapMs)-1]
	}
	json.NewEncoder(os.Stdout).Encode(res)
}
