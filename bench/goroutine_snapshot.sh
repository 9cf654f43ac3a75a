#!/usr/bin/env bash
# Goroutine snapshots: gspy's dump from outside versus Go's own
# /debug/pprof/goroutine, by the time a snapshot takes and by what it does
# to the target's request latency.
#
# For each N in -n, bench/goroutine_snapshot/server parks N goroutines (12
# kinds, 4-19 frames deep, six wait reasons, a quarter labelled) and serves
# a cheap handler, net/http/pprof and /pauses (its runtime/metrics
# stop-the-world histograms) on loopback. Then:
#  1. snapshot time, the server idle, SNAPS runs of each: `gspy goroutines
#     --pid` (text; the daemon's "read in" time and the command's wall
#     time), `gspy goroutines --format=pprof -o F` (wall), and curl of
#     /debug/pprof/goroutine?debug=1 and ?debug=2 (curl's time_total);
#  2. target latency, DURATION seconds per mode, under an open-loop load
#     (bench/goroutine_snapshot/loadgen: RATE requests/s sent at fixed
#     times, latency from each request's due time, so a stalled server is
#     charged for every request it delays): none (no snapshots), gspy (a
#     `gspy goroutines --pid` text dump every second), debug1 and debug2
#     (Go's profile every second). p50/p99/p99.9/max, ratios to none, and
#     the stop-the-world pauses the server's runtime counted in the window
#     (/sched/pauses/total/other, which the goroutine profile's pauses
#     land in; gc apart).
# One gspyd serves the whole run. With 2+ CPUs the server runs on the last
# CPU (GOMAXPROCS 1), the load generator, gspyd, gspy and curl on CPU 0: the
# server's CPU carries the server and whatever a snapshot makes it do. The
# load generator runs at real-time priority (chrt -f 50; its snapshots at
# normal priority again), so that gspyd and gspy, busy on its CPU for up to
# seconds, do not delay its sends and reads: it is the measuring instrument,
# and its own lateness is reported (send_lag_max_ms in the JSON).
#
# Output: tables on stdout and in OUT/goroutine_snapshot.txt, every
# measurement in OUT/goroutine_snapshot.json.
#
# Usage (as root):  bench/goroutine_snapshot.sh [-d SECONDS] [-n "1000 10000 100000"]
#                   [-k SNAPS] [-r RATE] [-o OUTDIR]
# Environment:      GSPYD_BIN, GSPY_BIN (default: build/daemon/gspyd and
#                   build/cli/gspy under the repository), DURATION (10),
#                   COUNTS ("1000 10000 100000"), SNAPS (5), RATE (1000),
#                   OUT (out/bench)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
bench=goroutine_snapshot
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
DURATION=${DURATION:-10}
COUNTS=${COUNTS:-1000 10000 100000}
SNAPS=${SNAPS:-5}
RATE=${RATE:-1000}
OUT=${OUT:-$root/out/bench}

while getopts "d:n:k:r:o:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    n) COUNTS=$OPTARG ;;
    k) SNAPS=$OPTARG ;;
    r) RATE=$OPTARG ;;
    o) OUT=$OPTARG ;;
    *) sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "run as root (gspyd loads BPF programs and reads other processes' memory)"
require_int DURATION "$DURATION" 2
require_int SNAPS "$SNAPS" 1
require_int RATE "$RATE" 1
for n in $COUNTS; do require_int -n "$n" 0; done
check_tools
command -v curl >/dev/null || die "curl not found"
command -v chrt >/dev/null || die "chrt not found (util-linux)"
mkdir -p "$OUT"

ncpu=$(nproc)
if ((ncpu >= 2)); then
  pin_server=(taskset -c "$((ncpu - 1))")
  pin_tools=(taskset -c 0)
  pinning="server on CPU $((ncpu - 1)); load generator (SCHED_FIFO), gspyd, gspy, curl on CPU 0"
else
  pin_server=()
  pin_tools=()
  pinning="not pinned (1 CPU)"
fi

work=$(mktemp -d /tmp/gspy-snapshot-bench.XXXXXX)
spid=""
cleanup() {
  if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  stop_gspyd
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building the server and the load generator..." >&2
(cd "$here/goroutine_snapshot" && CGO_ENABLED=0 "$GO" build -o "$work/server" ./server &&
  CGO_ENABLED=0 "$GO" build -o "$work/loadgen" ./loadgen)

start_server() { # start_server N
  "${pin_server[@]}" "$work/server" -goroutines="$1" >"$work/server.out" 2>"$work/server.err" &
  spid=$!
  local i
  for ((i = 0; i < 600; i++)); do
    port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/server.out")
    [[ -n $port ]] && return 0
    kill -0 "$spid" 2>/dev/null || { cat "$work/server.err" >&2; die "the server exited at start"; }
    sleep 0.05
  done
  die "the server did not start within 30 s"
}

stop_server() {
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  spid=""
}

now_ms() { awk -v t="$(date +%s%N)" 'BEGIN{printf "%.3f", t / 1e6}'; }
since_ms() { awk -v a="$1" -v t="$(date +%s%N)" 'BEGIN{printf "%.1f", t / 1e6 - a}'; }

# stats: "median max" of the numbers on stdin.
stats() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{ m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.1f %.1f", m, a[NR] }'; }

# snapshot_times N: SNAPS runs of each snapshot kind on the idle server.
declare -A snap
snapshot_times() {
  local n=$1 r t0 read_ms
  local url="http://127.0.0.1:$port/debug/pprof/goroutine"
  for ((r = 1; r <= SNAPS; r++)); do
    t0=$(now_ms)
    "${pin_tools[@]}" "$GSPY_BIN" --server="$addr" goroutines --pid="$spid" >"$work/dump.txt" 2>"$work/dump.err" ||
      { cat "$work/dump.err" >&2; die "gspy goroutines failed"; }
    snap[$n.gspy_wall]+="$(since_ms "$t0") "
    read_ms=$(sed -n 's/.* read in \([0-9.]*\) ms$/\1/p' "$work/dump.err")
    [[ -n $read_ms ]] || { cat "$work/dump.err" >&2; die "no 'read in' line from gspy"; }
    snap[$n.gspy_read]+="$read_ms "
    snap[$n.gspy_bytes]=$(stat -c %s "$work/dump.txt")
    snap[$n.gspy_total]=$(sed -n 's/.*: \([0-9]*\) goroutines (.*/\1/p' "$work/dump.err")
    t0=$(now_ms)
    "${pin_tools[@]}" "$GSPY_BIN" --server="$addr" goroutines --pid="$spid" --format=pprof \
      -o "$work/g.pb.gz" 2>"$work/dump.err" || { cat "$work/dump.err" >&2; die "gspy goroutines --format=pprof failed"; }
    snap[$n.gspy_pprof]+="$(since_ms "$t0") "
    for d in 1 2; do
      local out
      out=$("${pin_tools[@]}" curl -sS -o "$work/go.$d" -w '%{time_total} %{size_download}' "$url?debug=$d") ||
        die "GET $url?debug=$d failed"
      snap[$n.debug$d]+="$(awk -v t="${out% *}" 'BEGIN{printf "%.1f", t * 1000}') "
      snap[$n.debug${d}_bytes]=${out#* }
    done
  done
}

# run_mode N MODE: DURATION s of load with MODE's snapshots; prints the
# load generator's JSON line.
run_mode() {
  local n=$1 mode=$2 args=()
  case $mode in
    gspy) args=(-snapshot-cmd "chrt -o 0 $GSPY_BIN --server=$addr goroutines --pid=$spid") ;;
    debug1) args=(-snapshot-url "http://127.0.0.1:$port/debug/pprof/goroutine?debug=1") ;;
    debug2) args=(-snapshot-url "http://127.0.0.1:$port/debug/pprof/goroutine?debug=2") ;;
  esac
  "${pin_tools[@]}" chrt -f 50 "$work/loadgen" -url "http://127.0.0.1:$port" -rate "$RATE" \
    -duration "${DURATION}s" -mode "$mode" "${args[@]}" 2>"$work/loadgen.err" ||
    { cat "$work/loadgen.err" >&2; die "the load generator failed in mode $mode"; }
}

# jget JSON KEY: a number from the load generator's flat output, or from
# its pauses.other / pauses.gc objects with KEY other.count etc.
jget() {
  local json=$1 key=$2
  if [[ $key == *.* ]]; then
    json=$(sed -n "s/.*\"${key%%.*}\":{\([^}]*\)}.*/\1/p" <<<"$json")
    key=${key#*.}
  fi
  sed -n "s/.*\"$key\":\([-0-9.e+]*\).*/\1/p" <<<"$json" | head -1
}

modes=(none gspy debug1 debug2)
declare -A res
start_gspyd
n_counts=$(wc -w <<<"$COUNTS")
echo "$n_counts goroutine counts x (snapshot times, ${SNAPS} runs each; ${#modes[@]} modes x ${DURATION}s at $RATE req/s); $pinning" >&2
for n in $COUNTS; do
  start_server "$n"
  total=$(sed -n 's/.*"goroutines":\([0-9]*\).*/\1/p' "$work/server.out")
  echo "N=$n: server pid $spid, $total goroutines" >&2
  "${pin_tools[@]}" "$work/loadgen" -url "http://127.0.0.1:$port" -rate "$RATE" -duration 1s >/dev/null # warm-up
  snapshot_times "$n"
  printf '  snapshot ms (median max): gspy read %s, gspy wall %s, gspy pprof %s, debug=1 %s, debug=2 %s\n' \
    "$(stats <<<"${snap[$n.gspy_read]}")" "$(stats <<<"${snap[$n.gspy_wall]}")" \
    "$(stats <<<"${snap[$n.gspy_pprof]}")" "$(stats <<<"${snap[$n.debug1]}")" "$(stats <<<"${snap[$n.debug2]}")" >&2
  for mode in "${modes[@]}"; do
    res[$n.$mode]=$(run_mode "$n" "$mode")
    printf '  %-6s p50 %7.2f  p99 %8.2f  p99.9 %8.2f  max %8.2f ms  snapshots %s  STW other %s pauses, %.1f ms  send lag max %.1f ms\n' "$mode" \
      "$(jget "${res[$n.$mode]}" p50_ms)" "$(jget "${res[$n.$mode]}" p99_ms)" "$(jget "${res[$n.$mode]}" p999_ms)" \
      "$(jget "${res[$n.$mode]}" max_ms)" "$(jget "${res[$n.$mode]}" snapshots)" \
      "$(jget "${res[$n.$mode]}" other.count)" "$(jget "${res[$n.$mode]}" other.sum_ms)" \
      "$(jget "${res[$n.$mode]}" send_lag_max_ms)" >&2
  done
  stop_server
done
stop_gspyd

gover=$("$GO" version | awk '{print $3}')
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
  echo "goroutine snapshots: $(date -u +%Y-%m-%d), $ncpu CPUs ($model), kernel $(uname -r), $gover; $pinning"
  echo
  echo "Snapshot time on the idle server, ms, median / max of $SNAPS (gspy read: in gspyd; wall: the whole command)"
  printf '%-8s %-15s %-15s %-15s %-15s %-15s %s\n' N "gspy read" "gspy text wall" "gspy pprof wall" "Go debug=1" "Go debug=2" "output bytes (gspy text / debug=1 / debug=2)"
  for n in $COUNTS; do
    printf '%-8s' "$n"
    for k in gspy_read gspy_wall gspy_pprof debug1 debug2; do
      printf ' %-15s' "$(stats <<<"${snap[$n.$k]}" | tr ' ' '/')"
    done
    printf ' %s / %s / %s\n' "${snap[$n.gspy_bytes]}" "${snap[$n.debug1_bytes]}" "${snap[$n.debug2_bytes]}"
  done
  echo
  echo "Target latency under $RATE req/s open-loop load, ${DURATION}s per mode, one snapshot a second (ms; x = ratio to none)"
  echo "STW: the server's own count of stop-the-world pauses in the window, not GC (/sched/pauses/total/other), and the largest one's bucket"
  printf '%-8s %-7s %8s %9s %7s %9s %9s %7s %6s %10s %6s %9s %s\n' N mode p50 p99 "p99 x" p99.9 max "max x" snaps "snap med" STW "STW ms" "largest STW"
  for n in $COUNTS; do
    b99=$(jget "${res[$n.none]}" p99_ms)
    bmax=$(jget "${res[$n.none]}" max_ms)
    for mode in "${modes[@]}"; do
      j=${res[$n.$mode]}
      awk -v n="$n" -v m="$mode" -v p50="$(jget "$j" p50_ms)" -v p99="$(jget "$j" p99_ms)" -v b99="$b99" \
        -v p999="$(jget "$j" p999_ms)" -v mx="$(jget "$j" max_ms)" -v bmax="$bmax" -v s="$(jget "$j" snapshots)" \
        -v sm="$(jget "$j" snapshot_median_ms)" -v c="$(jget "$j" other.count)" -v cs="$(jget "$j" other.sum_ms)" \
        -v lo="$(jget "$j" other.max_lo_ms)" -v hi="$(jget "$j" other.max_hi_ms)" 'BEGIN{
          big = (c > 0) ? sprintf("%.3g-%.3g ms", lo, hi) : "-"
          printf "%-8s %-7s %8.2f %9.2f %7.2f %9.2f %9.2f %7.2f %6d %10.1f %6d %9.1f %s\n",
            n, m, p50, p99, p99 / b99, p999, mx, mx / bmax, s, sm, c, cs, big }'
    done
  done
} | tee "$OUT/goroutine_snapshot.txt"

{
  printf '{"benchmark":"goroutine_snapshot","date":"%s","cpus":%d,"cpu_model":"%s","kernel":"%s","go":"%s",' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$ncpu" "$model" "$(uname -r)" "$gover"
  printf '"duration_s":%d,"rate":%d,"snapshot_runs":%d,"pinning":"%s","counts":{' "$DURATION" "$RATE" "$SNAPS" "$pinning"
  first=1
  for n in $COUNTS; do
    ((first)) || printf ','
    first=0
    printf '"%s":{"snapshot_ms":{' "$n"
    sep=""
    for k in gspy_read gspy_wall gspy_pprof debug1 debug2; do
      printf '%s"%s":[%s]' "$sep" "$k" "$(echo ${snap[$n.$k]} | tr ' ' ',')"
      sep=","
    done
    printf '},"modes":{'
    sep=""
    for mode in "${modes[@]}"; do
      printf '%s"%s":%s' "$sep" "$mode" "${res[$n.$mode]}"
      sep=","
    done
    printf '}}'
  done
  printf '}}\n'
} >"$OUT/goroutine_snapshot.json"
echo "wrote $OUT/goroutine_snapshot.txt and $OUT/goroutine_snapshot.json" >&2
