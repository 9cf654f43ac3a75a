//go:build noprofiler

package main

func setRates(mutex, block bool) {}

func writeProfiles(out string, mutex, block bool) error { return nil }
