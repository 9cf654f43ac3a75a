#!/usr/bin/env bash
# CPU overhead of gspy on a Go workload, compared with Go's own profiler.
#
# Runs tests/workloads/cpuwork in throughput mode (GOMAXPROCS goroutines doing
# fixed-size units of arithmetic) for DURATION seconds in three modes,
# REPS times each, interleaved (the order rotates each round):
#   baseline  no profiling
#   gspy      a fresh gspyd, and `gspy profile cpu --pid` pulling at 99 Hz
#             for the whole window
#   goprof    the workload's own runtime/pprof CPU profile at 100 Hz
# and prints the median ops/s of each mode, the ratio to the baseline, and
# gspyd's own CPU time (utime+stime delta over the pull) and peak RSS (VmHWM).
#
# Usage (as root):  bench/cpu_overhead.sh [-d SECONDS] [-r REPS]
# Environment:      GSPYD_BIN, GSPY_BIN (default: build/daemon/gspyd and
#                   build/cli/gspy under the repository), DURATION (20), REPS (3)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
bench=cpu_overhead
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
DURATION=${DURATION:-20}
REPS=${REPS:-3}
HZ=99

while getopts "d:r:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    r) REPS=$OPTARG ;;
    *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "run as root (gspyd loads BPF programs)"
require_int DURATION "$DURATION" 2
require_int REPS "$REPS" 1
check_tools

work=$(mktemp -d /tmp/gspy-bench.XXXXXX)
wpid=""
cleanup() {
  if [[ -n $wpid ]]; then
    kill "$wpid" 2>/dev/null || true
    wait "$wpid" 2>/dev/null || true
    wpid=""
  fi
  stop_gspyd
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building cpuwork..." >&2
(cd "$root/tests/workloads/cpuwork" && CGO_ENABLED=0 "$GO" build -o "$work/cpuwork" .)

clk=$(getconf CLK_TCK)

# start_workload OUT [ARGS...]: starts cpuwork, waits for its ready line.
start_workload() {
  local out=$1
  shift
  "$work/cpuwork" -mode=throughput -duration="${DURATION}s" "$@" >"$out" &
  wpid=$!
  local i
  for ((i = 0; i < 300; i++)); do
    grep -qs '"event":"ready"' "$out" && return 0
    sleep 0.02
  done
  die "cpuwork did not start"
}

# finish_workload OUT: waits for cpuwork, sets result to its ops/s.
finish_workload() {
  local out=$1
  wait "$wpid" || die "cpuwork failed"
  wpid=""
  result=$(sed -n 's/.*"ops_per_sec":\([0-9.e+-]*\).*/\1/p' "$out")
}

declare -A ops
gspyd_cpu=()
gspyd_hwm=()
gspy_samples=()

run_mode() { # run_mode MODE REP
  local mode=$1 rep=$2 out="$work/$1.$2.json"
  case $mode in
    baseline)
      start_workload "$out"
      ;;
    goprof)
      start_workload "$out" -cpuprofile="$work/go.$rep.pprof"
      ;;
    gspy)
      start_gspyd
      start_workload "$out"
      local t0 t1
      t0=$(cpu_ticks "$dpid")
      "$GSPY_BIN" --server="$addr" profile cpu --pid="$wpid" --duration="${DURATION}s" \
        -o "$work/gspy.$rep.pb.gz" 2>"$work/gspy.$rep.err" ||
        { cat "$work/gspy.$rep.err" "$work/gspyd.log" >&2; die "gspy profile failed"; }
      t1=$(cpu_ticks "$dpid")
      gspyd_cpu+=("$(awk -v a="$t0" -v b="$t1" -v c="$clk" 'BEGIN{printf "%.3f", (b-a)/c}')")
      gspyd_hwm+=("$(awk '/^VmHWM:/{print $2}' "/proc/$dpid/status")")
      gspy_samples+=("$("$GO" tool pprof -top -sample_index=samples "$work/gspy.$rep.pb.gz" 2>/dev/null |
        sed -n 's/.* of \([0-9.]*\) total.*/\1/p' | head -1)")
      ;;
  esac
  local v
  finish_workload "$out"
  v=$result
  [[ -n $v ]] || die "no ops_per_sec in $out"
  ops[$mode]+="$v "
  [[ $mode == gspy ]] && stop_gspyd
  printf '  round %d %-8s %12.1f ops/s\n' "$rep" "$mode" "$v" >&2
}

modes=(baseline gspy goprof)
echo "running ${#modes[@]} modes x $REPS rounds x ${DURATION}s (about $((${#modes[@]} * REPS * (DURATION + 2))) s)..." >&2
for ((r = 1; r <= REPS; r++)); do
  for ((k = 0; k < ${#modes[@]}; k++)); do
    run_mode "${modes[$(((k + r - 1) % ${#modes[@]}))]}" "$r"
  done
done

base=$(echo "${ops[baseline]}" | median)
workers=$(sed -n 's/.*"workers":\([0-9]*\).*/\1/p' "$work/baseline.1.json")
echo
echo "cpuwork -mode=throughput, $workers worker goroutines, ${DURATION}s per run, median of $REPS runs per mode ($(nproc) CPUs, kernel $(uname -r))"
printf '%-20s %12s %12s %10s   %s\n' mode "median ops/s" "vs baseline" "" "all runs (noise check)"
for m in baseline gspy goprof; do
  v=$(echo "${ops[$m]}" | median)
  label=$m
  [[ $m == gspy ]] && label="gspy ($HZ Hz)"
  [[ $m == goprof ]] && label="go pprof (100 Hz)"
  awk -v l="$label" -v v="$v" -v b="$base" -v all="${ops[$m]}" \
    'BEGIN{n = split(all, a, " "); r = ""; for (i = 1; i <= n; i++) r = r sprintf("%.0f ", a[i])
      printf "%-20s %12.1f %12.4f %+9.2f%%   %s\n", l, v, v/b, (v/b-1)*100, r}'
done
cpu=$(echo "${gspyd_cpu[*]}" | median)
hwm=$(printf '%s\n' "${gspyd_hwm[@]}" | sort -n | tail -1)
smp=$(echo "${gspy_samples[*]}" | median)
awk -v c="$cpu" -v d="$DURATION" -v h="$hwm" -v s="$smp" 'BEGIN{
  printf "gspyd CPU over the pull: %.3f s (median; %.2f%% of one CPU over %d s)\n", c, 100*c/d, d
  printf "gspyd peak RSS (VmHWM): %.1f MiB (max over runs)\n", h/1024
  printf "gspy samples per pull: %.0f (median; expect about %d s x %d Hz x busy CPUs)\n", s, d, 99
}'
