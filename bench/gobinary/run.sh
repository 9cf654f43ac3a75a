#!/usr/bin/env bash
# Symbolizer figures on a large Go binary: generates a Go program
# (bench/gobinary/largegen), builds it (100+ MB), then runs
# gobinary_large_bench on it: cold/warm load, lookups per second with inline
# expansion, `go tool addr2line` addresses per second, RSS vs pclntab size.
#
# Usage: bench/gobinary/run.sh [benchmark flags...]
#   LARGE_PKGS / LARGE_FUNCS   size of the generated program (85 x 1200)
#   GSPY_BENCH_BUILD_DIR       CMake build dir (default build-bench)
#   GSPY_BENCH_KEEP=1          keep the temp dir with the binary
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
build="${GSPY_BENCH_BUILD_DIR:-$repo/build-bench}"
pkgs="${LARGE_PKGS:-85}"
funcs="${LARGE_FUNCS:-1200}"
# Independent of the user's go env (GOFLAGS there may not suit this build).
export GOENV=off GOFLAGS= GOTOOLCHAIN=local

cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" -j "$(nproc)" gobinary_large_bench

work="$(mktemp -d /tmp/gspy_large_bench.XXXXXX)"
if [ "${GSPY_BENCH_KEEP:-}" != 1 ]; then trap 'rm -rf "$work"' EXIT; fi
start=$(date +%s)
go run "$repo/bench/gobinary/largegen/main.go" -out "$work/src" \
  -pkgs "$pkgs" -funcs "$funcs"
# -N (no optimization, no inlining) compiles the generated packages about
# twice as fast; p000-p019 are optimized, so their helpers are inlined and
# lookups there expand inline frames (the last -gcflags match wins).
(cd "$work/src" && CGO_ENABLED=0 go build \
  -gcflags='gspy.bench/large/...=-N' -gcflags='gspy.bench/large/p00...=' \
  -gcflags='gspy.bench/large/p01...=' -o "$work/large" .)
end=$(date +%s)
size=$(stat -c %s "$work/large")
echo "generated and built $work/large: $((size / 1048576)) MiB," \
  "$((pkgs * funcs)) generated functions, $((end - start)) s" >&2
readelf -SW "$work/large" | grep -E ' \.(text|gopclntab|debug_info) ' >&2

GSPY_BENCH_LARGE_BINARY="$work/large" \
  "$build/bench/gobinary/gobinary_large_bench" "$@"
