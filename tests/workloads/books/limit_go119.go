//go:build go1.19

package main

import "runtime/debug"

func setMemoryLimit(n int64) { debug.SetMemoryLimit(n) }

const haveMemoryLimit = true
