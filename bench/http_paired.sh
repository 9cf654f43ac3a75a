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
# Output: a table on stdout and in OUT/http_paired.txt, every run and the
# summary in OUT/http_paired.json.
#
# Usage (as root):  bench/http_paired.sh [-d SECONDS] [-r REPS] [-c CONNS] [-o OUTDIR]
# Environment:      GSPYD_BIN, GSPY_BIN (default: build/daemon/gspyd and
#                   build/cli/gspy under the repository), DURATION (8),
#                   REPS (8), CONNS (32), OUT (out/bench), MODES (a subset
#                   of "noise books sampled block"), CAP (0.4)
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
    *) sed -n '2,67p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "run as root (gspyd loads BPF programs; namespaces need root)"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 2 ]] || die "DURATION must be an integer >= 2 (seconds)"
[[ $REPS =~ ^[0-9]+$ && $REPS -ge 1 ]] || die "REPS must be a positive integer"
((REPS % 2 == 0)) || echo "$bench: warning: odd REPS ($REPS): slot A is treated once more than B" >&2
[[ $CONNS =~ ^[0-9]+$ && $CONNS -ge 1 ]] || die "CONNS must be a positive integer"
check_tools
for t in wrk unshare nsenter curl pgrep; do
  command -v "$t" >/dev/null || die "$t not found (scripts/install-deps installs wrk; util-linux, curl, procps)"
done
ncpu=$(nproc)
((ncpu >= 2)) || die "needs 2 CPUs: the two servers share the last, the load generators and gspy the first"
mkdir -p "$OUT"

server_cpu=$((ncpu - 1))
pin_server=(taskset -c "$server_cpu")
pin_tools=(taskset -c 0)
pinning="both servers on CPU $server_cpu; both wrk, gspyd, gspy on CPU 0"
CAP=${CAP:-0.4}
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

# load_both DUR OUTPREFIX: both wrk at once, one per server.
load_both() {
  local s
  declare -A w
  for s in a b; do
    "${pin_tools[@]}" wrk -t1 -c"$CONNS" -d"$1" --latency "http://127.0.0.1:${port[$s]}$url_path" >"$2.$s" &
    w[$s]=$!
  done
  for s in a b; do wait "${w[$s]}" || die "wrk failed on server $s (see $2.$s)"; done
}

runs_json=()
# Treated/control ratios, one per round, per mode and per MODE.SLOT (the
# treated slot).
declare -A r_rps r_p99 r_us

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
  declare -A rps p99 cpu us
  local rl
  for s in a b; do
    rl=$(wrk_result "$work/wrk.$s")
    read -r "rps[$s]" "p99[$s]" <<<"$rl"
    cpu[$s]=$(awk -v a="${k0[$s]}" -v b="${k1[$s]}" -v c="$clk" -v w="$window" 'BEGIN{printf "%.3f", (b-a)/c/w}')
    us[$s]=$(awk -v c="${cpu[$s]}" -v r="${rps[$s]}" 'BEGIN{printf "%.2f", c / r * 1e6}')
  done
  local qr ql qu
  qr=$(awk -v a="${rps[$t]}" -v b="${rps[$c]}" 'BEGIN{printf "%.4f", a / b}')
  ql=$(awk -v a="${p99[$t]}" -v b="${p99[$c]}" 'BEGIN{printf "%.4f", a / b}')
  qu=$(awk -v a="${us[$t]}" -v b="${us[$c]}" 'BEGIN{printf "%.4f", a / b}')
  r_rps[$mode]+="$qr " r_rps[$mode.$t]+="$qr "
  r_p99[$mode]+="$ql " r_p99[$mode.$t]+="$ql "
  r_us[$mode]+="$qu " r_us[$mode.$t]+="$qu "
  local side=()
  for s in "$t" "$c"; do
    side+=("{\"server\":\"$s\",\"rps\":${rps[$s]},\"p99_ms\":${p99[$s]},\"server_cpu\":${cpu[$s]},\"server_us_per_request\":${us[$s]}}")
  done
  runs_json+=("{\"mode\":\"$mode\",\"round\":$rep,\"treated\":${side[0]},\"control\":${side[1]},\"rps_ratio\":$qr,\"p99_ratio\":$ql,\"server_us_ratio\":$qu,\"tools_cpu_idle\":$tools_idle,\"gspyd_cpu_s\":$gspyd_cpu,\"window_s\":$window}")
  printf '  round %d %-7s treated %s %6.0f req/s p99 %7.3f ms %5.1f us/req | control %s %6.0f req/s p99 %7.3f ms %5.1f us/req | ratios %.4f %.3f %.4f  tools idle %.2f  gspyd %s s\n' \
    "$rep" "$mode" "$t" "${rps[$t]}" "${p99[$t]}" "${us[$t]}" "$c" "${rps[$c]}" "${p99[$c]}" "${us[$c]}" \
    "$qr" "$ql" "$qu" "$tools_idle" "$gspyd_cpu" >&2
}

# stats: "median min max" of the numbers on stdin.
stats() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{ m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.4f %.4f %.4f", m, a[1], a[NR] }'; }

# balanced ARRAY MODE: sqrt(median with A treated x median with B treated)
# of the ratios in ARRAY (r_rps, r_p99, r_us); null without both slots.
balanced() {
  local -n arr=$1
  local a="${arr[$2.a]:-}" b="${arr[$2.b]:-}"
  if [[ -z $a || -z $b ]]; then echo null; return; fi
  awk -v a="$(echo "$a" | median)" -v b="$(echo "$b" | median)" 'BEGIN{printf "%.4f", sqrt(a * b)}'
}

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
fmt_stats() { awk '{printf "%.4f (%.4f-%.4f)", $1, $2, $3}'; }
{
  echo "httpserver GET $url_path, two at once (treated and control) under one wrk -t1 -c$CONNS each, ${DURATION}s per run, $REPS rounds"
  echo "$(date -u +%Y-%m-%d), $ncpu CPUs ($model), kernel $(uname -r), $gover; $pinning"
  echo "load average (1/5/15 min) before: $load_before, after: $load_after"
  echo "ratios treated/control in the same window, median (min-max) over the rounds; noise: neither treated"
  echo "goal (issue 11): req/s ratio >= 0.995 and p99 ratio <= 1.05, read against the noise row"
  echo "each: balanced | median (min-max)"
  printf '%-8s %-35s %-35s %-35s\n' mode "req/s ratio" "p99 ratio" "server us/req ratio"
  for m in "${modes[@]}"; do
    cells=()
    for q in rps p99 us; do
      declare -n col="r_$q"
      cells+=("$(balanced "r_$q" "$m") | $(echo "${col[$m]}" | stats | fmt_stats)")
      unset -n col
    done
    printf '%-8s %-35s %-35s %-35s\n' "$m" "${cells[@]}"
  done
} | tee "$OUT/http_paired.txt"

{
  printf '{"benchmark":"http_paired","date":"%s","cpus":%d,"cpu_model":"%s","kernel":"%s","go":"%s",' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$ncpu" "$model" "$(uname -r)" "$gover"
  printf '"duration_s":%d,"rounds":%d,"connections":%d,"pinning":"%s","url":"%s","loadavg_before":"%s","loadavg_after":"%s",' \
    "$DURATION" "$REPS" "$CONNS" "$pinning" "$url_path" "$load_before" "$load_after"
  printf '"summary":{'
  first=1
  for m in "${modes[@]}"; do
    ((first)) || printf ','
    first=0
    printf '"%s":{' "$m"
    sep=""
    for q in rps p99 us; do
      declare -n col="r_$q"
      read -r med lo hi <<<"$(echo "${col[$m]}" | stats)"
      name=$q
      [[ $q == us ]] && name=server_us
      printf '%s"%s_ratio":{"balanced":%s,"median":%s,"min":%s,"max":%s}' "$sep" "$name" "$(balanced "r_$q" "$m")" "$med" "$lo" "$hi"
      sep=,
      unset -n col
    done
    printf '}'
  done
  printf '},"runs":['
  (IFS=,; printf '%s' "${runs_json[*]}")
  printf ']}\n'
} >"$OUT/http_paired.json"
echo "wrote $OUT/http_paired.txt and $OUT/http_paired.json" >&2
