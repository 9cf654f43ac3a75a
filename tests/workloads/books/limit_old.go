//go:build !go1.19

package main

// Go 1.18 has no memory limit; -memlimit is refused in main.
func setMemoryLimit(n int64) {}

const haveMemoryLimit = false
