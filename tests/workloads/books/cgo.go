//go:build cgo

package main

// static int gspy_books_add(int a, int b) { return a + b; }
import "C"

// callC makes n calls from Go to C (/cgo/go-to-c-calls:calls).
func callC(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += int(C.gspy_books_add(C.int(i), 1))
	}
	return s
}
