// Package e2e holds gspy's end-to-end tests. They run as root against real
// gspyd and gspy binaries named by the GSPYD_BIN and GSPY_BIN environment
// variables, profile the Go workload in ../workloads/cpuwork built several
// ways, and compare gspy's profiles with the workload's own runtime/pprof
// CPU profile.
//
//	sudo GSPYD_BIN=$PWD/../../build/daemon/gspyd GSPY_BIN=$PWD/../../build/cli/gspy go test -count=1 -v ./...
package e2e
