//go:build !noprofiler

package main

import (
	"os"
	"runtime"
	"runtime/pprof"
)

func setRates(mutex, block bool) {
	if mutex {
		runtime.SetMutexProfileFraction(1)
	}
	if block {
		runtime.SetBlockProfileRate(1)
	}
}

func writeProfiles(out string, mutex, block bool) error {
	if out == "" {
		return nil
	}
	write := func(name, path string) error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
			return err
		}
		return f.Close()
	}
	if err := write("heap", out); err != nil {
		return err
	}
	if block {
		if err := write("block", out+".block"); err != nil {
			return err
		}
	}
	// The mutex profile last: writing a profile can contend on the runtime's
	// own locks, which go1.22+ records in the mutex profile.
	if mutex {
		if err := write("mutex", out+".mutex"); err != nil {
			return err
		}
	}
	return nil
}
