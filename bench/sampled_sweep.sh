#!/usr/bin/env bash
# The sampled wait source's cost per watched process: for each N in -n,
# bench/goroutine_snapshot/server parks N goroutines (12 kinds, 4-19 frames
# deep, six wait reasons, a quarter labelled) and a fresh gspyd at its
# default settings (or with FLAGS) serves one `gspy profile block --pid`
# pull of DURATION seconds: the sampled mode, whose sweeps read every
# goroutine from outside.
#
# Reported per N, from the profile's own comment (the CPU time gspyd's
# sweep thread measured, which is what its budget controls): the mean
# interval and rate, the number of sweeps, the share of a core used, and
# the CPU time of one sweep (share x interval). Also gspyd's whole CPU time
# over the pull (utime+stime from /proc: the first sweep, which unwinds
# every stack, and building the pprof included) as a share of the pull.
#
# Output: a table on stdout and in OUT/sampled_sweep.txt.
#
# Usage (as root):  bench/sampled_sweep.sh [-d SECONDS] [-n "1000 10000 160000"] [-o OUTDIR]
# Environment:      GSPYD_BIN, GSPY_BIN (default: build/daemon/gspyd and
#                   build/cli/gspy under the repository), DURATION (30),
#                   COUNTS ("1000 10000 100000 160000"), OUT (out/bench),
#                   FLAGS (extra gspyd flags, e.g. --sampled-max-interval=1s)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
bench=sampled_sweep
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
DURATION=${DURATION:-30}
COUNTS=${COUNTS:-1000 10000 100000 160000}
OUT=${OUT:-$root/out/bench}
FLAGS=${FLAGS:-}

while getopts "d:n:o:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    n) COUNTS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "run as root (gspyd reads other processes' memory)"
require_int DURATION "$DURATION" 2
for n in $COUNTS; do require_int -n "$n" 0; done
check_tools
mkdir -p "$OUT"

work=$(mktemp -d /tmp/gspy-sampled-sweep.XXXXXX)
spid=""
cleanup() {
  if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  stop_gspyd
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building the server..." >&2
(cd "$here/goroutine_snapshot" && CGO_ENABLED=0 "$GO" build -o "$work/server" ./server)

start_server() { # start_server N
  "$work/server" -goroutines="$1" >"$work/server.out" 2>"$work/server.err" &
  spid=$!
  local i
  for ((i = 0; i < 600; i++)); do
    grep -q '"port"' "$work/server.out" && return 0
    kill -0 "$spid" 2>/dev/null || { cat "$work/server.err" >&2; die "the server exited at start"; }
    sleep 0.05
  done
  die "the server did not start within 30 s"
}

hz=$(getconf CLK_TCK)
rows=()
for n in $COUNTS; do
  start_server "$n"
  total=$(sed -n 's/.*"goroutines":\([0-9]*\).*/\1/p' "$work/server.out")
  # shellcheck disable=SC2086
  start_gspyd $FLAGS
  t0=$(cpu_ticks "$dproc")
  "$GSPY_BIN" --server="$addr" profile block --pid="$spid" --duration="${DURATION}s" \
    -o "$work/block.pb.gz" 2>"$work/gspy.err" || { cat "$work/gspy.err" >&2; die "the pull failed"; }
  t1=$(cpu_ticks "$dproc")
  stop_gspyd
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  spid=""
  comment=$("$GO" tool pprof -comments "$work/block.pb.gz" 2>/dev/null | grep 'mode: sampled' || true)
  [[ -n $comment ]] || die "no sampled mode comment in the profile (N=$n)"
  # "... every 1.00002s on average (1.0 Hz, 20 sweeps; ... used 8.113%)"
  read -r interval rate sweeps used < <(sed -E 's/.*every ([^ ]+) on average \(([0-9.]+) Hz, ([0-9]+) sweeps.*used ([0-9.]+)%\).*/\1 \2 \3 \4/' <<<"$comment")
  row=$(awk -v n="$n" -v g="$total" -v iv="$interval" -v hzr="$rate" -v sw="$sweeps" -v u="$used" \
    -v ticks="$((t1 - t0))" -v hz="$hz" -v d="$DURATION" 'BEGIN{
      s = iv; ms = s + 0
      if (s ~ /ms$/) ms = s + 0; else if (s ~ /us$/) ms = (s + 0) / 1000; else if (s ~ /s$/) ms = (s + 0) * 1000
      printf "%-8s %-10s %10.1f %8.2f %7d %8.3f %10.2f %9.2f", n, g, ms, hzr, sw, u, u / 100 * ms, ticks / hz / d * 100 }')
  echo "$row" >&2
  rows+=("$row")
done

{
  echo "sampled sweeps: $(date -u +%Y-%m-%d), $(nproc) CPUs, kernel $(uname -r), $("$GO" version | awk '{print $3}'); ${DURATION}s block pull per N; gspyd flags: ${FLAGS:-defaults}"
  printf '%-8s %-10s %10s %8s %7s %8s %10s %9s\n' N goroutines "mean ms" Hz sweeps "used %" "sweep ms" "gspyd %"
  printf '%s\n' "${rows[@]}"
  echo "used %: the sweep thread's CPU / the pull (the budget's measure); sweep ms = used x mean interval;"
  echo "gspyd %: the whole daemon's CPU over the pull (first sweep, unwinding every stack, and the pprof included)"
} | tee "$OUT/sampled_sweep.txt"
