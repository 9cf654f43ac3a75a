//go:build cgo

package main

// static int gspy_cpuwork_answer(void) { return 42; }
import "C"

// With CGO_ENABLED=1 this makes cpuwork a real cgo binary (dynamically
// linked against libc, runtime/cgo present); main calls the hook once.
func init() {
	cgoHook = func() int { return int(C.gspy_cpuwork_answer()) }
}
