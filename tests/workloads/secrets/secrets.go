package main

import (
	"time"
)

// handleSecretToken burns CPU until the deadline: the function name and
// this file's name are what redaction must hide.
//
//go:noinline
func handleSecretToken(deadline time.Time) uint64 {
	var x uint64 = 1
	for time.Now().Before(deadline) {
		for i := 0; i < 100000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

// handleSecretTokenWait blocks on a channel, again and again, so the
// block, wall and sched-latency profiles and the dumps see it waiting.
//
//go:noinline
func handleSecretTokenWait(deadline time.Time, tick <-chan time.Time) int {
	n := 0
	for time.Now().Before(deadline) {
		<-tick
		n++
	}
	return n
}

// leakSecretToken parks forever: a goroutine leak in a secret function.
//
//go:noinline
func leakSecretToken(never <-chan struct{}) { <-never }

// handleSecretTokenSpawn starts a leaking goroutine: its dumps have a
// "created by" frame in this file.
//
//go:noinline
func handleSecretTokenSpawn(never <-chan struct{}) { go leakSecretToken(never) }
