//go:build !cgo

package main

func callC(n int) int { return 0 }
