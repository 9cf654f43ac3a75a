// Package push tests gspyd's continuous mode end to end: gspyd profiles a
// real Go workload and pushes to receivers on loopback that speak the
// backends' published APIs: Pyroscope's push.v1.PusherService served by
// Pyroscope's own generated connect-go handler (github.com/grafana/pyroscope/api,
// the module Pyroscope's server is built from), and Parca's
// ProfileStoreService/WriteRaw on grpc-go, decoded field by field from the
// published field numbers. Run as root with GSPYD_BIN set (ctest -R push_e2e).
//
// Pyroscope's and Parca's server modules themselves (github.com/grafana/pyroscope,
// github.com/parca-dev/parca) are not served by the Go module proxy reachable
// here (403 "This module version is not available" for the version list and
// for exact versions), so neither server can be built here.
package push
