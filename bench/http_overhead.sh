#!/usr/bin/env bash
# Overhead of gspy's probes on a Go HTTP server under load.
#
# Runs tests/workloads/httpserver (net/http; each request allocates, hands a
# job to a worker goroutine over channels, takes a mutex, encodes JSON) on
# loopback, loaded by wrk, in seven modes, REPS rounds each, interleaved (the
# order rotates each round), DURATION seconds of load per run:
#   none   no gspyd running
#   gc     a `gspy gc --pid` watch (GC stop-the-world uprobes)
#   block  a `gspy profile block --exact --pid` pull (uprobes on
#          runtime.gopark, runtime.ready, and gopark's return from mcall)
#   sampled a `gspy profile block --pid` pull in its default mode: goroutine
#          states read from outside, no probes
#   books  gspyd with --metrics-listen, /metrics scraped every second: the
#          runtime's books and goroutine states of every Go process, read
#          from outside, no probes
#   noise  no gspyd, like none: its ratio to none is the noise floor
#   blockd the block pull with the trap duty cycle: gspyd run with
#          --block-detach-above-parks-per-second=2000, 500 ms windows, at
#          least a tenth of the time attached (the probes detached between
#          windows, so the traps fall too)
#   cpu    a `gspy profile cpu --pid` pull (perf events, 99 Hz)
#   heap   `gspy profile heap --pid` every HEAP_EVERY seconds (10) through
#          the load window, the first at its start: the runtime's heap
#          profile buckets read from outside (process_vm_readv), no probes
#   all    cpu + gc + block (exact) at once
# Each gspy mode starts a fresh gspyd, then the watch/pulls, waits until their
# probes are attached, then runs wrk; the pulls cover the whole load window.
# Every run also starts a fresh server and warms it up (1 s of load) first.
#
# Reported, median over the rounds, as ratios to `none`: throughput (req/s)
# and p99 latency (wrk --latency). With kernel.bpf_stats_enabled=1 (set for
# the run, restored after) it reads run_cnt and run_time_ns of gspyd's BPF
# programs (bpftool) before and after the load window: hits/s and ns per hit
# of each program. That is the BPF program's own time; a uprobe hit also
# costs the trap into the kernel and back, which the req/s ratio includes:
# the script also estimates the full cost per hit from it (extra server CPU
# per request / probe hits per request).
#
# Pinning on a 2+ CPU machine: the server on the last CPU (its GOMAXPROCS
# follows: 1), wrk, gspyd and gspy on CPU 0, so the server's CPU carries only
# the server and the in-context cost of the probes it hits. With 1 CPU,
# nothing is pinned.
#
# Output: a table on stdout and in OUT/http_overhead.txt, every run and the
# summary in OUT/http_overhead.json.
#
# Usage (as root):  bench/http_overhead.sh [-d SECONDS] [-r REPS] [-c CONNS] [-o OUTDIR]
# Environment:      GSPYD_BIN, GSPY_BIN (default: build/daemon/gspyd and
#                   build/cli/gspy under the repository), DURATION (10),
#                   REPS (3), CONNS (32), OUT (out/bench), HEAP_EVERY (10),
#                   MODES (a subset of "none noise gc block blockd sampled
#                   books cpu heap all", none first)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
bench=http_overhead
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
DURATION=${DURATION:-10}
REPS=${REPS:-3}
CONNS=${CONNS:-32}
OUT=${OUT:-$root/out/bench}

while getopts "d:r:c:o:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    r) REPS=$OPTARG ;;
    c) CONNS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    *) sed -n '2,53p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "run as root (gspyd loads BPF programs; bpf stats need root)"
require_int DURATION "$DURATION" 2
require_int REPS "$REPS" 1
require_int CONNS "$CONNS" 1
check_tools
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk; scripts/install-deps installs it)"
command -v bpftool >/dev/null || die "bpftool not found"
mkdir -p "$OUT"

ncpu=$(nproc)
if ((ncpu >= 2)); then
  server_cpu=$((ncpu - 1))
  pin_server=(taskset -c "$server_cpu")
  pin_tools=(taskset -c 0)
  pinning="server on CPU $server_cpu; wrk, gspyd, gspy on CPU 0"
else
  pin_server=()
  pin_tools=()
  pinning="not pinned (1 CPU)"
fi

work=$(mktemp -d /tmp/gspy-http-bench.XXXXXX)
spid=""
bg_pids=()
stats_old=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
  local p
  sysctl -q -w kernel.bpf_stats_enabled="$stats_old" || true
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  stop_gspyd
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building httpserver..." >&2
(cd "$root/tests/workloads/httpserver" && CGO_ENABLED=0 "$GO" build -o "$work/httpserver" .)
sysctl -q -w kernel.bpf_stats_enabled=1

clk=$(getconf CLK_TCK)

start_server() {
  : >"$work/server.out"
  "${pin_server[@]}" "$work/httpserver" >"$work/server.out" 2>"$work/server.err" &
  spid=$!
  local i
  for ((i = 0; i < 300; i++)); do
    port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/server.out")
    [[ -n $port ]] && return 0
    sleep 0.02
  done
  die "httpserver did not start"
}

stop_server() {
  kill -TERM "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  spid=""
}

# gspyd's BPF programs: ids from its bpf-prog fds.
prog_ids() {
  local f
  for f in /proc/"$dproc"/fdinfo/*; do
    sed -n 's/^prog_id:[[:space:]]*\([0-9]*\)$/\1/p' "$f" 2>/dev/null
  done | sort -un
}

# prog_stats: "name run_cnt run_time_ns" per gspyd program.
prog_stats() {
  local id
  for id in $(prog_ids); do
    bpftool prog show id "$id" 2>/dev/null |
      sed -n '1s/.* name \([^ ]*\) .*run_time_ns \([0-9]*\) run_cnt \([0-9]*\).*/\1 \3 \2/p'
  done || true
}

# wait_cpu_sampling: until gspyd's perf-event program has run.
wait_cpu_sampling() {
  local i
  for ((i = 0; i < 300; i++)); do
    prog_stats | awk '$1 == "sample_cpu" && $2 > 0 { f = 1 } END { exit !f }' && return 0
    sleep 0.1
  done
  die "the CPU sampler did not run within 30 s"
}

url_path="/work?n=8"
pull_secs=$((DURATION + 3))
runs_json=()
declare -A rps p99 srv_us hits_json

run_mode() { # run_mode MODE REP
  local mode=$1 rep=$2 p=() wrk_out="$work/wrk.$1.$2"
  start_server
  "${pin_tools[@]}" wrk -t1 -c"$CONNS" -d1s "http://127.0.0.1:$port$url_path" >/dev/null # warm-up
  if [[ $mode == blockd ]]; then
    start_gspyd --block-detach-above-parks-per-second=2000 --block-detach-window=500ms \
      --block-detach-min-fraction=0.1
  elif [[ $mode == books ]]; then
    start_gspyd --metrics-listen=127.0.0.1:0
  elif [[ $mode != none && $mode != noise ]]; then
    start_gspyd
  fi
  if [[ $mode != none && $mode != noise ]]; then
    if [[ $mode == gc || $mode == all ]]; then
      "${pin_tools[@]}" "$GSPY_BIN" --server="$addr" gc --pid="$spid" --duration="${pull_secs}s" \
        >"$work/gc.out" 2>"$work/gc.err" &
      p+=($!)
      wait_line "$work/gc.err" "gspy: watching pid $spid"
    fi
    if [[ $mode == block || $mode == blockd || $mode == all ]]; then
      "${pin_tools[@]}" "$GSPY_BIN" --server="$addr" profile block --exact --pid="$spid" --duration="${pull_secs}s" \
        -o "$work/block.pb.gz" 2>"$work/block.err" &
      p+=($!)
      wait_probed "$spid" block
    fi
    if [[ $mode == sampled ]]; then
      "${pin_tools[@]}" "$GSPY_BIN" --server="$addr" profile block --pid="$spid" --duration="${pull_secs}s" \
        -o "$work/block.pb.gz" 2>"$work/block.err" &
      p+=($!)
      wait_probed "$spid" sampled
    fi
    if [[ $mode == books ]]; then
      start_scraper "$pull_secs" "$spid"
      p+=("$scraper_pid")
    fi
    if [[ $mode == heap ]]; then
      # The server links runtime/pprof, so its heap profile is kept; one
      # read now (it must work) and one every HEAP_EVERY seconds.
      "${pin_tools[@]}" "$GSPY_BIN" profile heap --pid="$spid" -o "$work/heap.pb.gz" \
        2>"$work/heap.err" || die "mode heap: gspy profile heap failed (see $work/heap.err)"
      # Until the window ends (pull_secs), like the pulls of other modes.
      (for ((t = 1; t <= pull_secs; t++)); do
        sleep 1
        ((t % ${HEAP_EVERY:-10} == 0)) || continue
        "${pin_tools[@]}" "$GSPY_BIN" profile heap --pid="$spid" -o "$work/heap.pb.gz" \
          2>>"$work/heap.err" || exit 1
      done) &
      p+=($!)
    fi
    if [[ $mode == cpu || $mode == all ]]; then
      "${pin_tools[@]}" "$GSPY_BIN" --server="$addr" profile cpu --pid="$spid" --duration="${pull_secs}s" \
        -o "$work/cpu.pb.gz" 2>"$work/cpu.err" &
      p+=($!)
      wait_cpu_sampling
    fi
    bg_pids=("${p[@]}")
    prog_stats >"$work/stats.before"
  fi
  local s0 d0 t0 t1 i0
  s0=$(cpu_ticks "$spid")
  i0=$(tools_cpu_idle)
  [[ -n $dpid ]] && d0=$(cpu_ticks "$dproc")
  t0=$(date +%s.%N)
  "${pin_tools[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$port$url_path" >"$wrk_out"
  t1=$(date +%s.%N)
  local server_cpu gspyd_cpu="null" window tools_idle
  window=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')
  tools_idle=$(awk -v a="$i0" -v b="$(tools_cpu_idle)" -v c="$clk" -v w="$window" 'BEGIN{printf "%.3f", (b-a)/c/w}')
  server_cpu=$(awk -v a="$s0" -v b="$(cpu_ticks "$spid")" -v c="$clk" -v w="$window" 'BEGIN{printf "%.3f", (b-a)/c/w}')
  local hits="{}"
  if [[ $mode != none && $mode != noise ]]; then
    prog_stats >"$work/stats.after"
    gspyd_cpu=$(awk -v a="$d0" -v b="$(cpu_ticks "$dproc")" -v c="$clk" 'BEGIN{printf "%.3f", (b-a)/c}')
    # The watch and pulls must still be running: they cover the window.
    local q
    for q in "${p[@]}"; do
      kill -0 "$q" 2>/dev/null || die "mode $mode: a gspy watch/pull ended before the load did (see $work)"
    done
    # FILENAME, not NR == FNR: stats.before is empty when no program has
    # run yet (bpftool prints no counts then).
    hits=$(awk -v w="$window" 'FILENAME == ARGV[1] { c[$1] = $2; t[$1] = $3; next }
      { dc = $2 - c[$1]; dt = $3 - t[$1]; if (dc <= 0) next
        s = s sprintf("%s\"%s\":{\"hits\":%d,\"hits_per_s\":%.1f,\"ns_per_hit\":%.1f}", (s == "" ? "" : ","), $1, dc, dc / w, dt / dc) }
      END { printf "{%s}", s }' "$work/stats.before" "$work/stats.after")
    for q in "${p[@]}"; do wait "$q" || die "mode $mode: gspy failed (see $work)"; done
    bg_pids=()
    stop_gspyd
  fi
  stop_server
  local r l rl
  rl=$(wrk_result "$wrk_out")
  read -r r l <<<"$rl"
  rps[$mode]+="$r "
  p99[$mode]+="$l "
  hits_json[$mode.$rep]=$hits
  local us_req
  us_req=$(awk -v c="$server_cpu" -v r="$r" 'BEGIN{printf "%.2f", c / r * 1e6}')
  srv_us[$mode]+="$us_req "
  runs_json+=("{\"mode\":\"$mode\",\"round\":$rep,\"rps\":$r,\"p99_ms\":$l,\"server_cpu\":$server_cpu,\"server_us_per_request\":$us_req,\"tools_cpu_idle\":$tools_idle,\"gspyd_cpu_s\":$gspyd_cpu,\"window_s\":$window,\"programs\":$hits}")
  printf '  round %d %-6s %10.0f req/s  p99 %7.3f ms  server CPU %.2f (%.1f us/req)  tools CPU idle %.2f  gspyd CPU %s s\n' \
    "$rep" "$mode" "$r" "$l" "$server_cpu" "$us_req" "$tools_idle" "$gspyd_cpu" >&2
}

read -r -a modes <<<"${MODES:-none noise gc block blockd sampled books cpu all}"
echo "running ${#modes[@]} modes x $REPS rounds x ${DURATION}s of load (about $((${#modes[@]} * REPS * (DURATION + 7))) s); $pinning" >&2
for ((r = 1; r <= REPS; r++)); do
  for ((k = 0; k < ${#modes[@]}; k++)); do
    run_mode "${modes[$(((k + r - 1) % ${#modes[@]}))]}" "$r"
  done
done

# Per mode and program: median hits/s and ns per hit over the rounds.
prog_summary() { # prog_summary MODE -> "name hits_per_s ns_per_hit" lines
  local r
  for ((r = 1; r <= REPS; r++)); do
    echo "${hits_json[$1.$r]}" | sed 's/},/}\n/g' |
      sed -n 's/.*"\([a-z_]*\)":{"hits":[0-9]*,"hits_per_s":\([0-9.]*\),"ns_per_hit":\([0-9.]*\)}.*/\1 \2 \3/p'
  done | sort | awk '{ n[$1]++; h[$1, n[$1]] = $2; c[$1, n[$1]] = $3 }
    function med(arr, k, m,   i, j, t, v) { for (i = 1; i <= m; i++) v[i] = arr[k, i]
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
    END { for (k in n) printf "%s %.1f %.1f\n", k, med(h, k, n[k]), med(c, k, n[k]) }' | sort
}

base_rps=$(echo "${rps[none]}" | median)
base_p99=$(echo "${p99[none]}" | median)
base_us=$(echo "${srv_us[none]}" | median)
gover=$("$GO" version | awk '{print $3}')
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
  echo "httpserver GET $url_path under wrk -t1 -c$CONNS, ${DURATION}s per run, median of $REPS runs per mode"
  echo "$(date -u +%Y-%m-%d), $ncpu CPUs ($model), kernel $(uname -r), $gover; $pinning"
  echo "server us/req: the server's own CPU per request (what gspy costs the target, whatever the load generator got)"
  printf '%-6s %12s %9s %10s %9s %13s %9s   %s\n' mode "req/s" "vs none" "p99 ms" "vs none" "server us/req" "vs none" "all runs req/s"
  for m in "${modes[@]}"; do
    v=$(echo "${rps[$m]}" | median)
    l=$(echo "${p99[$m]}" | median)
    u=$(echo "${srv_us[$m]}" | median)
    awk -v m="$m" -v v="$v" -v b="$base_rps" -v l="$l" -v bl="$base_p99" -v u="$u" -v bu="$base_us" -v all="${rps[$m]}" \
      'BEGIN{n = split(all, a, " "); r = ""; for (i = 1; i <= n; i++) r = r sprintf("%.0f ", a[i])
        printf "%-6s %12.0f %9.4f %10.3f %9.3f %13.2f %9.4f   %s\n", m, v, v/b, l, l/bl, u, u/bu, r}'
  done
  echo
  echo "BPF programs (kernel.bpf_stats_enabled): median hits/s and ns per hit of the program itself (not the uprobe trap)"
  printf '%-6s %-22s %12s %10s\n' mode program "hits/s" "ns/hit"
  for m in "${modes[@]}"; do
    [[ $m == none || $m == noise ]] && continue
    prog_summary "$m" | while read -r name hps nsh; do
      printf '%-6s %-22s %12.1f %10.1f\n' "$m" "$name" "$hps" "$nsh"
    done
  done
  echo
  echo "Full cost per uprobe hit (trap + program), estimated from the throughput:"
  echo "(1/req/s of the mode - 1/req/s of none) / uprobe hits per request; only meaningful when the server CPU column is near 1"
  for m in "${modes[@]}"; do
    [[ $m == block ]] || continue
    v=$(echo "${rps[$m]}" | median)
    hps=$(prog_summary "$m" | awk '$1 != "sample_cpu" { s += $2 } END { printf "%.1f", s }')
    awk -v m="$m" -v v="$v" -v b="$base_rps" -v h="$hps" 'BEGIN{
      if (h <= 0) exit; per_req = h / v; extra_ns = (1 / v - 1 / b) * 1e9
      printf "%-6s %.2f uprobe hits per request, %.0f ns more CPU per request: about %.0f ns per hit\n", m, per_req, extra_ns, extra_ns / per_req }'
  done
} | tee "$OUT/http_overhead.txt"

{
  printf '{"benchmark":"http_overhead","date":"%s","cpus":%d,"cpu_model":"%s","kernel":"%s","go":"%s",' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$ncpu" "$model" "$(uname -r)" "$gover"
  printf '"duration_s":%d,"rounds":%d,"connections":%d,"pinning":"%s","url":"%s",' "$DURATION" "$REPS" "$CONNS" "$pinning" "$url_path"
  printf '"summary":{'
  first=1
  for m in "${modes[@]}"; do
    v=$(echo "${rps[$m]}" | median)
    l=$(echo "${p99[$m]}" | median)
    progs=$(prog_summary "$m" | awk '{ s = s sprintf("%s\"%s\":{\"hits_per_s\":%s,\"ns_per_hit\":%s}", (s == "" ? "" : ","), $1, $2, $3) } END { printf "{%s}", s }')
    ((first)) || printf ','
    first=0
    u=$(echo "${srv_us[$m]}" | median)
    awk -v m="$m" -v v="$v" -v b="$base_rps" -v l="$l" -v bl="$base_p99" -v u="$u" -v bu="$base_us" -v pr="$progs" \
      'BEGIN{printf "\"%s\":{\"median_rps\":%.1f,\"rps_ratio\":%.4f,\"median_p99_ms\":%.4f,\"p99_ratio\":%.4f,\"median_server_us_per_request\":%.3f,\"server_us_ratio\":%.4f,\"programs\":%s}", m, v, v/b, l, l/bl, u, u/bu, pr}'
  done
  printf '},"runs":['
  (IFS=,; printf '%s' "${runs_json[*]}")
  printf ']}\n'
} >"$OUT/http_overhead.json"
echo "wrote $OUT/http_overhead.txt and $OUT/http_overhead.json" >&2
