#!/usr/bin/env bash
# Overhead of gspy on a Go HTTP server, measured paired: treated against
# control in the same load window, so that outside load cancels out.
#
# On a shared machine, runs of the same mode one after another vary by far
# more than a 0.5% effect (http_overhead.sh's noise floor). Here each run
# starts TWO identical tests/workloads/httpserver instances, A and B (two
# copies of one binary: a uprobe on one inode never traps the other), both
# with GOMAXPROCS=1 and pinned to the last CPU, and loads them AT THE SAME
# TIME with two wrk instances (same connections, same duration, pinned to
# CPU 0 with gspyd, gspy and the scraper). gspy is applied to ONE server,
# the treated one; the other is the control. Whatever outside load slows
# the machine slows both, so the ratio treated/control of the same window
# cancels it.
#
# Each server runs in its own PID namespace (unshare --pid --fork
# --mount-proc; its init is a `sleep`), and gspyd runs in the treated
# server's namespace (nsenter), so it cannot see or read the control (in
# books mode it reads every Go process it finds): the script checks that
# `gspy targets` lists the treated server's binary alone. wrk reaches both
# over loopback (the network namespace is shared). The treated slot
# alternates between A and B from round to round. Modes:
#   noise   neither server treated (the same namespaces, no gspyd): the
#           ratio's noise floor
#   books   gspyd with --metrics-listen, /metrics scraped every second: the
#           runtime's books and goroutine states read from outside
#   sampled a `gspy profile block --pid` pull in its default mode: goroutine
#           states read from outside, no probes
#   block   a `gspy profile block --exact --pid` pull: uprobes (a sanity
#           check that the design sees a real cost). gspyd in a PID
#           namespace filters BPF events by its namespace's pids while the
#           kernel reports host pids, so its programs return early: the
#           traps are all paid, the recording is not (a slight underestimate)
# Modes are interleaved, the order rotating each round; each run starts
# fresh servers and warms both up at once (1 s of load).
#
# Reported per mode: treated/control ratios of throughput (req/s), of wrk's
# p99 latency, and of the server's own CPU per request (utime+stime from
# /proc/PID/stat per request: what gspy costs the target, whatever the load
# generator got). Each as "balanced", then the median (min-max) over all
# rounds. The two slots are not quite alike (on a 2-vCPU VM the first
# started got ~1% fewer req/s even with neither treated), so the median of
# an odd number of rounds leans to one slot; balanced = sqrt(median of the
# rounds with A treated x median of those with B treated) cancels a
# constant slot bias; use an even REPS. The noise row is the floor to read
# them against.
#
# CPU cap (CAP, a fraction of one CPU per server; 0 turns it off): without
# it, on an otherwise idle machine the servers' CPU is the bottleneck and
# its split between two closed-loop servers is unstable (req/s ratios of
# 0.67-1.63 with neither treated, 2026-12-07), while the CPU per request
# stays within ~1%. Each server gets its own cgroup capped at CAP of a CPU
# (10 ms period), two caps below one CPU: each server's req/s is then its
# fixed CPU budget over its cost per request (plus any stall), whoever else
# runs; costs show in req/s as on a CPU-bound server. But saturated servers
# (capped or not) serve their connections unfairly: their p99 ratio is noise
# (0.25-5 with neither treated); it means something only in a run where
# the tools' CPU, not the servers', was the bottleneck (tools idle ~0).
#
# Latency (LOAD=fixed): wrk is closed-loop, so the servers are saturated
# and a stall is charged one slow request, not the many it delays. Under
# LOAD=fixed one bench/fixedrate process (pinned with the tools, at nice
# -10 so that gspyd and the scraper seldom delay it) sends RATE requests/s
# to EACH server on one shared schedule over CONNS keep-alive connections
# each, and times every request from when it was due (coordinated omission
# corrected, as wrk2 does). Without RATE,
# the script first loads both servers (no gspy) with wrk for 5 s and sets
# RATE = FRACTION (0.5) x their mean req/s: that is a fraction of the
# saturation throughput of one server sharing the CPU with the other. It
# reports the ratios of p99, p50 and p99.9 and of the server's CPU per
# request; every request must complete without error (the req/s are the
# rate by construction). CAP defaults to 0 under LOAD=fixed: a server below
# its cap still hits it within a 10 ms period whenever a burst of requests
# uses up its quota, and then waits out the period: latency the cap adds,
# not gspy. The generator's own lateness is printed per run (lag p99): a
# late generator delays both servers' requests alike and pulls the ratios
# toward 1, so a run whose lag p99 exceeds a quarter of either server's p99
# is left out of the summary (counted, and kept in the JSON, "late").
# Per-round p99 ratios move with each round's few slowest requests (with
# neither server treated, 0.3 to 4.4 in one run), so LOAD=fixed also pools:
# the p99 and p99.9 over every request of the kept rounds in which a slot
# was treated, against the other slot's in the same rounds, balanced over
# the two slots ("pooled p99").
# SERVER_NICE (default 0) runs both servers at that nice value: at -10 a
# compile on the servers' CPU no longer pushes them into saturation (what
# gspy costs them runs on the tools' CPU, or in the server's own context,
# where it still shows).
#
# Output: a table on stdout and in OUT/http_paired.txt, every run and the
# summary in OUT/http_paired.json (http_paired_fixed.* under LOAD=fixed).
#
# Usage (as root):  bench/http_paired.sh [-d SECONDS] [-r REPS] [-c CONNS] [-o OUTDIR]
# Environment:      GSPYD_BIN, GSPY_BIN (default: build/daemon/gspyd and
#                   build/cli/gspy under the repository), DURATION (8),
#                   REPS (8), CONNS (32), OUT (out/bench), MODES (a subset
#                   of "noise books sampled block"), CAP (0.4; 0 under
#                   LOAD=fixed), LOAD (wrk or fixed), RATE (req/s per
#                   server under LOAD=fixed; default: FRACTION of the
#                   measured saturation), FRACTION (0.5),
#                   SERVER_NICE (0)
set -Eeuo pipefail
# A failed command ends the script (set -e); say which, or it ends silently.
trap 'echo "$bench: line $LINENO failed: $BASH_COMMAND" >&2' ERR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
bench=http_paired
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
DURATION=${DURATION:-8}
REPS=${REPS:-8}
CONNS=${CONNS:-32}
OUT=${OUT:-$root/out/bench}

while getopts "d:r:c:o:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    r) REPS=$OPTARG ;;
    c) CONNS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    *) sed -n '2,/^set -E/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "run as root (gspyd loads BPF programs; namespaces need root)"
require_int DURATION "$DURATION" 2
require_int REPS "$REPS" 1
((REPS % 2 == 0)) || echo "$bench: warning: odd REPS ($REPS): slot A is treated once more than B" >&2
require_int CONNS "$CONNS" 1
check_tools
LOAD=${LOAD:-wrk}
[[ $LOAD == wrk || $LOAD == fixed ]] || die "LOAD must be wrk or fixed"
for t in wrk unshare nsenter curl pgrep $([[ $LOAD == fixed ]] && echo jq); do
  command -v "$t" >/dev/null || die "$t not found (scripts/install-deps installs wrk and jq; util-linux, curl, procps)"
done
FRACTION=${FRACTION:-0.5}
RATE=${RATE:-}
if [[ $LOAD == fixed ]]; then
  awk -v f="$FRACTION" 'BEGIN{ exit !(f > 0 && f < 1) }' || die "FRACTION must be in (0, 1)"
  [[ -z $RATE || ($RATE =~ ^[0-9]+$ && $RATE -ge 1) ]] || die "RATE must be a positive integer (req/s per server)"
fi
ncpu=$(nproc)
((ncpu >= 2)) || die "needs 2 CPUs: the two servers share the last, the load generators and gspy the first"
mkdir -p "$OUT"

server_cpu=$((ncpu - 1))
SERVER_NICE=${SERVER_NICE:-0}
[[ $SERVER_NICE =~ ^-?[0-9]+$ && $SERVER_NICE -ge -20 && $SERVER_NICE -le 19 ]] || die "SERVER_NICE must be in [-20, 19]"
pin_server=(taskset -c "$server_cpu" nice -n "$SERVER_NICE")
pin_tools=(taskset -c 0)
pinning="both servers on CPU $server_cpu (nice $SERVER_NICE); both wrk, gspyd, gspy on CPU 0"
if [[ $LOAD == fixed ]]; then CAP=${CAP:-0}; else CAP=${CAP:-0.4}; fi
awk -v c="$CAP" 'BEGIN{ exit !(c >= 0 && c < 0.5) }' || die "CAP must be in [0, 0.5): two servers share one CPU"
cap_quota=$(awk -v c="$CAP" 'BEGIN{ printf "%d", c * 10000 }')
((cap_quota == 0 || cap_quota >= 1000)) || die "CAP below 0.1 starves the servers"
cg_root="" cg_v=0
if ((cap_quota)); then
  if grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    cg_root=/sys/fs/cgroup cg_v=2
  elif [[ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]]; then
    cg_root=/sys/fs/cgroup/cpu cg_v=1
  else
    die "CAP: no cgroup cpu controller found (set CAP=0 to run uncapped)"
  fi
  pinning+="; each server capped at $CAP CPU (cgroup v$cg_v)"
fi

work=$(mktemp -d /tmp/gspy-http-paired.XXXXXX)
declare -A holder ns_init wrapper spid npid port cg

# make_cgroup S: server S's cgroup, capped at CAP of a CPU; sets cg[S].
make_cgroup() {
  local d="$cg_root/gspy-http-paired.$$.$1"
  mkdir "$d"
  cg[$1]=$d
  if ((cg_v == 2)); then
    grep -qw cpu "$cg_root/cgroup.subtree_control" || echo +cpu >"$cg_root/cgroup.subtree_control"
    echo "$cap_quota 10000" >"$d/cpu.max"
  else
    echo 10000 >"$d/cpu.cfs_period_us"
    echo "$cap_quota" >"$d/cpu.cfs_quota_us"
  fi
}
bg_pids=()

# start_slot S: a fresh PID namespace and server S (a or b) in it. Sets
# ns_init[S] (the namespace's init, host pid), spid[S] (the server, host
# pid), npid[S] (the server in its namespace) and port[S].
start_slot() {
  local s=$1 i w
  ns_init[$s]="" spid[$s]="" wrapper[$s]=""
  # unshare ignores SIGTERM while its child runs; killing the init (SIGKILL)
  # ends the namespace and everything in it, then unshare.
  # Its stderr to a file: util-linux 2.38's unshare complains
  # ("sigprocmask unblock failed") when its child is killed, harmlessly.
  unshare --pid --fork --mount-proc --kill-child sleep infinity 2>>"$work/unshare.$s.err" &
  holder[$s]=$!
  for ((i = 0; i < 250; i++)); do
    ns_init[$s]=$(child_of "${holder[$s]}")
    [[ -n ${ns_init[$s]} ]] && break
    sleep 0.02
  done
  [[ -n ${ns_init[$s]} ]] || die "no PID namespace for server $s"
  : >"$work/server.$s.out"
  "${pin_server[@]}" nsenter -t "${ns_init[$s]}" -p -m -- env GOMAXPROCS=1 "$work/httpserver.$s" \
    >"$work/server.$s.out" 2>"$work/server.$s.err" &
  w=$!
  wrapper[$s]=$w
  for ((i = 0; i < 500; i++)); do
    port[$s]=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/server.$s.out")
    [[ -n ${port[$s]} ]] && break
    sleep 0.02
  done
  [[ -n ${port[$s]} ]] || { cat "$work/server.$s.err" >&2; die "httpserver $s did not start"; }
  grep -q '"gomaxprocs":1,' "$work/server.$s.out" || die "httpserver $s: GOMAXPROCS is not 1"
  npid[$s]=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$work/server.$s.out")
  spid[$s]=$(child_of "$w")
  # The kernel's word that it runs in the namespace: NSpid is "host ... ns".
  [[ -n ${spid[$s]} && $(awk '$1 == "NSpid:" { print NF - 1, $NF }' "/proc/${spid[$s]}/status") == "2 ${npid[$s]}" ]] ||
    die "httpserver $s (pid ${spid[$s]}) is not pid ${npid[$s]} of its own PID namespace"
  if [[ -n ${cg[$s]:-} ]]; then
    echo "${spid[$s]}" >"${cg[$s]}/cgroup.procs"
    grep -qx "${spid[$s]}" "${cg[$s]}/cgroup.procs" || die "httpserver $s is not in ${cg[$s]}"
  fi
}

stop_slot() {
  local s=$1
  [[ -n ${ns_init[$s]:-} ]] || return 0
  [[ -n ${spid[$s]:-} ]] && kill -TERM "${spid[$s]}" 2>/dev/null  || true
  [[ -n ${wrapper[$s]:-} ]] && wait "${wrapper[$s]}" 2>/dev/null || true
  kill -KILL "${ns_init[$s]}" 2>/dev/null || true
  wait "${holder[$s]}" 2>/dev/null || true
  ns_init[$s]=""
}

cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_gspyd
  stop_slot a
  stop_slot b
  local s
  for s in a b; do [[ -n ${cg[$s]:-} ]] && { rmdir "${cg[$s]}" 2>/dev/null || true; }; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ((cap_quota)); then
  make_cgroup a
  make_cgroup b
fi

echo "building httpserver..." >&2
(cd "$root/tests/workloads/httpserver" && CGO_ENABLED=0 "$GO" build -o "$work/httpserver" .)
fixedrate=() # the load generator's command line under LOAD=fixed
if [[ $LOAD == fixed ]]; then
  (cd "$root/bench/fixedrate" && GOENV=off GOFLAGS='' CGO_ENABLED=0 "$GO" build -o "$work/fixedrate" .)
  # nice -10, so that gspyd, gspy and the scraper on the same CPU seldom
  # delay its sends (a delay hits both servers alike and would dilute the
  # ratios toward 1). Not real-time: SCHED_FIFO does not time-slice, and
  # the Go runtime's spinning threads then starved the thread they waited
  # for, on one CPU (the generator hung at 95% CPU).
  fixedrate=("${pin_tools[@]}" nice -n -10 "$work/fixedrate")
  pinning+="; fixedrate at nice -10"
fi
cp "$work/httpserver" "$work/httpserver.a"
cp "$work/httpserver" "$work/httpserver.b"
clk=$(getconf CLK_TCK)
url_path="/work?n=8"
pull_secs=$((DURATION + 3))

# check_targets S: gspyd lists server S's binary and nothing else.
check_targets() {
  local s=$1 i t
  for ((i = 0; i < 100; i++)); do
    t=$("$GSPY_BIN" --server="$addr" targets 2>/dev/null | awk -F'\t' 'NR > 1 { print $1, $3 }' || true)
    [[ -n $t ]] && break
    sleep 0.1
  done
  [[ $t == "${npid[$s]} $work/httpserver.$s" ]] ||
    die "gspyd in server $s's PID namespace must list that server alone; it lists: ${t:-nothing}"
}

# load_both DUR OUTPREFIX: the load of LOAD on both servers at once.
load_both() {
  if [[ $LOAD == fixed ]]; then
    "${fixedrate[@]}" -url "http://127.0.0.1:${port[a]}$url_path" -url "http://127.0.0.1:${port[b]}$url_path" \
      -rate "$RATE" -duration "$1" -conns "$CONNS" -latencies "$2.lat" >"$2.json" 2>"$2.err" ||
      { cat "$2.err" >&2; die "fixedrate failed (see $2.err)"; }
  else
    wrk_both "$@"
  fi
}

# wrk_both DUR OUTPREFIX: both wrk at once, one per server (OUTPREFIX.a, .b),
# each prefixed by the array wrk_nice (empty but in calibrate).
wrk_nice=()
wrk_both() {
  local s
  declare -A w
  for s in a b; do
    "${pin_tools[@]}" "${wrk_nice[@]}" wrk -t1 -c"$CONNS" -d"$1" --latency "http://127.0.0.1:${port[$s]}$url_path" >"$2.$s" &
    w[$s]=$!
  done
  for s in a b; do wait "${w[$s]}" || die "wrk failed on server $s (see $2.$s)"; done
}

runs_json=()
# Treated/control ratios, one per round, per mode and per MODE.SLOT (the
# treated slot).
# shellcheck disable=SC2034 # read and written through namerefs (r_$k)
declare -A r_rps r_p99 r_us r_p50 r_p999 n_late
# The ratios reported: wrk's percentiles are coarse (no p99.9) and its p99
# says little; under LOAD=fixed the req/s are the rate by construction.
if [[ $LOAD == fixed ]]; then cols=(p99 p50 p999 us); else cols=(rps p99 us); fi
declare -A col_title=([rps]="req/s ratio" [p99]="p99 ratio" [p50]="p50 ratio" [p999]="p99.9 ratio" [us]="server us/req ratio")
declare -A col_json=([rps]=rps_ratio [p99]=p99_ratio [p50]=p50_ratio [p999]=p999_ratio [us]=server_us_ratio)

# fixed_result FILE S: "REQ_PER_S P50_MS P99_MS P999_MS COMPLETED" of server S
# (a or b) from fixedrate's JSON; dies unless every request completed.
fixed_result() {
  local i=0 line sent completed errs rps p50 p99 p999
  [[ $2 == b ]] && i=1
  line=$(jq -r ".targets[$i] | \"\(.sent) \(.completed) \(.errors) \(.achieved_rate) \(.p50_ms) \(.p99_ms) \(.p999_ms)\"" "$1") ||
    die "could not read fixedrate's output ($1)"
  read -r sent completed errs rps p50 p99 p999 <<<"$line"
  [[ $errs == 0 && $sent == "$completed" ]] || die "server $2: $completed of $sent requests completed, $errs errors (see $1)"
  echo "$rps $p50 $p99 $p999 $completed"
}

run_pair() { # run_pair MODE REP
  local mode=$1 rep=$2 t c p=() s
  if ((rep % 2)); then t=a c=b; else t=b c=a; fi
  start_slot a
  start_slot b
  load_both 1s "$work/warm" # warm-up
  if [[ $mode != noise ]]; then
    gspyd_wrap=(nsenter -t "${ns_init[$t]}" -p -m --)
    if [[ $mode == books ]]; then start_gspyd --metrics-listen=127.0.0.1:0; else start_gspyd; fi
    check_targets "$t"
    case $mode in
      sampled | block)
        local exact=()
        [[ $mode == block ]] && exact=(--exact)
        "${pin_tools[@]}" "$GSPY_BIN" --server="$addr" profile block "${exact[@]}" --pid="${npid[$t]}" \
          --duration="${pull_secs}s" -o "$work/block.pb.gz" 2>"$work/block.err" &
        p+=($!)
        wait_probed "${npid[$t]}" "$mode"
        ;;
      books)
        start_scraper "$pull_secs" "${npid[$t]}"
        p+=("$scraper_pid")
        ;;
      *) die "unknown mode $mode" ;;
    esac
    bg_pids=("${p[@]}")
  fi
  local t0 t1 i0 d0="" window tools_idle gspyd_cpu=null
  declare -A k0 k1
  for s in a b; do k0[$s]=$(cpu_ticks "${spid[$s]}"); done
  i0=$(tools_cpu_idle)
  [[ -n $dproc ]] && d0=$(cpu_ticks "$dproc")
  t0=$(date +%s.%N)
  load_both "${DURATION}s" "$work/wrk"
  t1=$(date +%s.%N)
  for s in a b; do k1[$s]=$(cpu_ticks "${spid[$s]}"); done
  window=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')
  tools_idle=$(awk -v a="$i0" -v b="$(tools_cpu_idle)" -v c="$clk" -v w="$window" 'BEGIN{printf "%.3f", (b-a)/c/w}')
  if [[ $mode != noise ]]; then
    gspyd_cpu=$(awk -v a="$d0" -v b="$(cpu_ticks "$dproc")" -v c="$clk" 'BEGIN{printf "%.3f", (b-a)/c}')
    # The pull and the scraper must still be running: they cover the window.
    local q
    for q in "${p[@]}"; do
      kill -0 "$q" 2>/dev/null || die "mode $mode: a gspy pull or the scraper ended before the load did (see $work)"
    done
    for q in "${p[@]}"; do wait "$q" || die "mode $mode: gspy failed (see $work)"; done
    bg_pids=()
    stop_gspyd
    gspyd_wrap=()
  fi
  stop_slot a
  stop_slot b
  declare -A rps p50 p99 p999 cpu us completed
  local rl
  for s in a b; do
    cpu[$s]=$(awk -v a="${k0[$s]}" -v b="${k1[$s]}" -v c="$clk" -v w="$window" 'BEGIN{printf "%.3f", (b-a)/c/w}')
    if [[ $LOAD == fixed ]]; then
      rl=$(fixed_result "$work/wrk.json" "$s")
      read -r "rps[$s]" "p50[$s]" "p99[$s]" "p999[$s]" "completed[$s]" <<<"$rl"
      # CPU time over the requests of the window (the rate is fixed).
      us[$s]=$(awk -v a="${k0[$s]}" -v b="${k1[$s]}" -v c="$clk" -v n="${completed[$s]}" 'BEGIN{printf "%.2f", (b-a)/c/n*1e6}')
    else
      rl=$(wrk_result "$work/wrk.$s")
      read -r "rps[$s]" "p99[$s]" <<<"$rl"
      p50[$s]=null p999[$s]=null
      us[$s]=$(awk -v c="${cpu[$s]}" -v r="${rps[$s]}" 'BEGIN{printf "%.2f", c / r * 1e6}')
    fi
  done
  local k
  declare -A qs
  for k in rps p50 p99 p999 us; do
    declare -n vals=$k
    if [[ ${vals[$t]} == null ]]; then
      qs[$k]=null
    else
      qs[$k]=$(awk -v a="${vals[$t]}" -v b="${vals[$c]}" 'BEGIN{printf "%.4f", a / b}')
    fi
    unset -n vals
  done
  local side=() lag=null
  for s in "$t" "$c"; do
    side+=("{\"server\":\"$s\",\"rps\":${rps[$s]},\"p50_ms\":${p50[$s]},\"p99_ms\":${p99[$s]},\"p999_ms\":${p999[$s]},\"server_cpu\":${cpu[$s]},\"server_us_per_request\":${us[$s]}}")
  done
  local late=false
  if [[ $LOAD == fixed ]]; then
    lag=$(jq -r .send_lag_p99_ms "$work/wrk.json")
    awk -v l="$lag" -v a="${p99[$t]}" -v b="${p99[$c]}" 'BEGIN{ exit !(l > 0.25 * (a < b ? a : b)) }' && late=true
  fi
  if [[ $late == true ]]; then
    n_late[$mode]=$((${n_late[$mode]:-0} + 1))
  else
    if [[ $LOAD == fixed ]]; then
      # Every latency of the run, kept for the pooled percentiles: the
      # treated server's as MODE.TS.REP, the control's as MODE.CS.REP (S
      # its slot; fixedrate numbers its -url flags: a is 0, b is 1).
      local -A idx=([a]=0 [b]=1)
      mkdir -p "$work/pool"
      mv "$work/wrk.lat.${idx[$t]}" "$work/pool/$mode.T$t.$rep"
      mv "$work/wrk.lat.${idx[$c]}" "$work/pool/$mode.C$c.$rep"
    fi
    for k in rps p50 p99 p999 us; do
      [[ ${qs[$k]} == null ]] && continue
      declare -n acc="r_$k"
      # shellcheck disable=SC2004 # acc is an associative array
      acc[$mode]+="${qs[$k]} " acc[$mode.$t]+="${qs[$k]} "
      unset -n acc
    done
  fi
  runs_json+=("{\"mode\":\"$mode\",\"round\":$rep,\"treated\":${side[0]},\"control\":${side[1]},\"rps_ratio\":${qs[rps]},\"p50_ratio\":${qs[p50]},\"p99_ratio\":${qs[p99]},\"p999_ratio\":${qs[p999]},\"server_us_ratio\":${qs[us]},\"send_lag_p99_ms\":$lag,\"generator_late\":$late,\"tools_cpu_idle\":$tools_idle,\"gspyd_cpu_s\":$gspyd_cpu,\"window_s\":$window}")
  if [[ $LOAD == fixed ]]; then
    printf '  round %d %-7s treated %s p50/p99/p99.9 %6.3f %7.3f %7.3f ms %5.1f us/req | control %s %6.3f %7.3f %7.3f ms %5.1f us/req | ratios p99 %.3f p50 %.3f p99.9 %.3f us %.4f  lag p99 %.2f ms%s  tools idle %.2f  gspyd %s s\n' \
      "$rep" "$mode" "$t" "${p50[$t]}" "${p99[$t]}" "${p999[$t]}" "${us[$t]}" "$c" "${p50[$c]}" "${p99[$c]}" "${p999[$c]}" "${us[$c]}" \
      "${qs[p99]}" "${qs[p50]}" "${qs[p999]}" "${qs[us]}" "$lag" "$([[ $late == true ]] && echo ' LATE: left out')" "$tools_idle" "$gspyd_cpu" >&2
  else
    printf '  round %d %-7s treated %s %6.0f req/s p99 %7.3f ms %5.1f us/req | control %s %6.0f req/s p99 %7.3f ms %5.1f us/req | ratios %.4f %.3f %.4f  tools idle %.2f  gspyd %s s\n' \
      "$rep" "$mode" "$t" "${rps[$t]}" "${p99[$t]}" "${us[$t]}" "$c" "${rps[$c]}" "${p99[$c]}" "${us[$c]}" \
      "${qs[rps]}" "${qs[p99]}" "${qs[us]}" "$tools_idle" "$gspyd_cpu" >&2
  fi
}

# stats: "median min max" of the numbers on stdin; "null null null" for none.
stats() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{a[NR]=$1} END{ if (!NR) { print "null null null"; exit }
  m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.4f %.4f %.4f", m, a[1], a[NR] }'; }

# balanced ARRAY MODE: sqrt(median with A treated x median with B treated)
# of the ratios in ARRAY (r_rps, r_p99, r_us); null without both slots.
balanced() {
  local -n arr=$1
  local a="${arr[$2.a]:-}" b="${arr[$2.b]:-}"
  if [[ -z $a || -z $b ]]; then echo null; return; fi
  awk -v a="$(echo "$a" | median)" -v b="$(echo "$b" | median)" 'BEGIN{printf "%.4f", sqrt(a * b)}'
}

# pooled MODE: "P99 P999" balanced ratios of pooled percentiles: each
# slot's latencies over every kept round it was treated in, against the
# other slot's as control in those rounds; balanced = sqrt(pooled ratio
# with A treated x pooled ratio with B treated). "null null" without both.
pooled() {
  local s
  for s in a b; do compgen -G "$work/pool/$1.T$s.*" >/dev/null || { echo "null null"; return; }; done
  # In order: A treated, B as its control, B treated, A as its control.
  for s in Ta Cb Tb Ca; do
    "$work/fixedrate" -pool "$work/pool/$1.$s".* | jq -r '"\(.p99_ms) \(.p999_ms)"'
  done | awk '{ p99[NR] = $1; p999[NR] = $2 }
    END { printf "%.4f %.4f", sqrt(p99[1] / p99[2] * p99[3] / p99[4]), sqrt(p999[1] / p999[2] * p999[3] / p999[4]) }'
}

# calibrate: RATE = FRACTION x the saturation throughput of one server
# sharing the CPU with the other: the mean req/s of both under wrk at once
# (under the cap, if any), no gspy. wrk at nice -10 as the generator, or
# outside load on the tools' CPU makes wrk, not the servers, the limit.
calibrate() {
  local i0 ra rb sat idle
  start_slot a
  start_slot b
  wrk_nice=(nice -n -10)
  wrk_both 1s "$work/calwarm"
  i0=$(tools_cpu_idle)
  wrk_both 5s "$work/cal"
  idle=$(awk -v a="$i0" -v b="$(tools_cpu_idle)" -v c="$clk" 'BEGIN{printf "%.2f", (b-a)/c/5}')
  wrk_nice=()
  stop_slot a
  stop_slot b
  read -r ra _ <<<"$(wrk_result "$work/cal.a")"
  read -r rb _ <<<"$(wrk_result "$work/cal.b")"
  sat=$(awk -v a="$ra" -v b="$rb" 'BEGIN{printf "%.0f", (a + b) / 2}')
  RATE=$(awk -v s="$sat" -v f="$FRACTION" 'BEGIN{printf "%.0f", s * f}')
  ((RATE >= 1)) || die "calibration gave no throughput (see $work/cal.a, $work/cal.b)"
  calibration="saturation (wrk -c$CONNS on both for 5 s, nice -10): $ra + $rb req/s, mean $sat per server (tools CPU idle $idle); RATE = $FRACTION x $sat"
  echo "$bench: $calibration = $RATE req/s per server" >&2
}

calibration=""
if [[ $LOAD == fixed && -z $RATE ]]; then calibrate; fi
outname=http_paired
[[ $LOAD == fixed ]] && outname=http_paired_fixed
read -r -a modes <<<"${MODES:-noise books sampled block}"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "running ${#modes[@]} modes x $REPS rounds x ${DURATION}s of paired load (about $((${#modes[@]} * REPS * (DURATION + 8))) s); $pinning; load average $load_before" >&2
for ((r = 1; r <= REPS; r++)); do
  for ((k = 0; k < ${#modes[@]}; k++)); do
    run_pair "${modes[$(((k + r - 1) % ${#modes[@]}))]}" "$r"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

gover=$("$GO" version | awk '{print $3}')
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
fmt_stats() { awk '$1 == "null" { print "-"; next } {printf "%.4f (%.4f-%.4f)", $1, $2, $3}'; }
{
  if [[ $LOAD == fixed ]]; then
    echo "httpserver GET $url_path, two at once (treated and control), open loop: fixedrate at $RATE req/s each over $CONNS connections each, latency from each request's due time, ${DURATION}s per run, $REPS rounds"
    [[ -z $calibration ]] || echo "$calibration"
  else
    echo "httpserver GET $url_path, two at once (treated and control) under one wrk -t1 -c$CONNS each, ${DURATION}s per run, $REPS rounds"
  fi
  echo "$(date -u +%Y-%m-%d), $ncpu CPUs ($model), kernel $(uname -r), $gover; $pinning"
  echo "load average (1/5/15 min) before: $load_before, after: $load_after"
  echo "ratios treated/control in the same window, median (min-max) over the rounds; noise: neither treated"
  echo "goal (issue 11): req/s ratio >= 0.995 and p99 ratio <= 1.05, read against the noise row"
  echo "each: balanced | median (min-max)"
  line=$(printf '%-8s' mode)
  for q in "${cols[@]}"; do line+=$(printf ' %-35s' "${col_title[$q]}"); done
  echo "$line"
  for m in "${modes[@]}"; do
    line=$(printf '%-8s' "$m")
    for q in "${cols[@]}"; do
      declare -n col="r_$q"
      line+=$(printf ' %-35s' "$(balanced "r_$q" "$m") | $(echo "${col[$m]:-}" | stats | fmt_stats)")
      unset -n col
    done
    if [[ $LOAD == fixed ]]; then
      read -r pp99 pp999 <<<"$(pooled "$m")"
      line+=" late: ${n_late[$m]:-0} of $REPS; pooled p99 $pp99, p99.9 $pp999"
    fi
    echo "$line"
  done
  if [[ $LOAD == fixed ]]; then
    echo "late: runs left out, the generator's lag p99 above a quarter of a server's p99"
    echo "pooled: percentiles over every request of the kept rounds, treated against control, balanced over the slots"
  fi
} | tee "$OUT/$outname.txt"

{
  printf '{"benchmark":"http_paired","date":"%s","cpus":%d,"cpu_model":"%s","kernel":"%s","go":"%s",' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$ncpu" "$model" "$(uname -r)" "$gover"
  printf '"duration_s":%d,"rounds":%d,"connections":%d,"pinning":"%s","url":"%s","loadavg_before":"%s","loadavg_after":"%s",' \
    "$DURATION" "$REPS" "$CONNS" "$pinning" "$url_path" "$load_before" "$load_after"
  printf '"load":"%s","rate_per_server":%s,"calibration":"%s",' "$LOAD" "${RATE:-null}" "$calibration"
  printf '"summary":{'
  first=1
  for m in "${modes[@]}"; do
    ((first)) || printf ','
    first=0
    printf '"%s":{"late_runs":%d,' "$m" "${n_late[$m]:-0}"
    if [[ $LOAD == fixed ]]; then
      read -r pp99 pp999 <<<"$(pooled "$m")"
      printf '"pooled_p99_ratio":%s,"pooled_p999_ratio":%s,' "$pp99" "$pp999"
    fi
    sep=""
    for q in "${cols[@]}"; do
      declare -n col="r_$q"
      read -r med lo hi <<<"$(echo "${col[$m]:-}" | stats)"
      printf '%s"%s":{"balanced":%s,"median":%s,"min":%s,"max":%s}' "$sep" "${col_json[$q]}" "$(balanced "r_$q" "$m")" "$med" "$lo" "$hi"
      sep=,
      unset -n col
    done
    printf '}'
  done
  printf '},"runs":['
  (IFS=,; printf '%s' "${runs_json[*]}")
  printf ']}\n'
} >"$OUT/$outname.json"
echo "wrote $OUT/$outname.txt and $OUT/$outname.json" >&2
