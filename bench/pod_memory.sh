#!/usr/bin/env bash
# gspyd's memory as its pod sees it. A container's memory limit is its
# cgroup's memory.max: what the OOM killer compares is memory.current, which
# holds more than the resident set gspyd's memory back-off watches (VmRSS):
# the BPF maps, the kernel's slab and stacks for it, socket buffers and the
# page cache of the binaries and /proc files it reads. The Helm chart sets
# the back-off budget at backoff.memoryBudgetShare (0.75) of the limit and
# leaves the rest for that; this measures whether the rest is enough.
#
# gspyd runs in a cgroup of its own with memory.max = LIMIT (the chart's
# 512Mi by default) and the chart's own arguments (--backoff-memory-budget
# = 0.75 x LIMIT, /metrics), beside TARGETS Go processes with 3250
# goroutines each (tests/workloads/goroutines) and a CPU burner. Phases:
#   idle    /metrics scraped every second (books, goroutine states)
#   pulls   the same, plus back to back: a node-wide 5 s CPU profile, a
#           5 s sampled block profile of every target, a goroutine dump of
#           each target in turn
#   heavy   the same, plus dumps, back to back, of a target whose 1200
#           goroutines share a 256 KiB label set (~300 MB of text)
#   after   that target gone, the pulls and scrapes go on
# Every half second: memory.current and its parts from memory.stat (anon,
# file, kernel, sock), and VmRSS. Reported per phase: the peaks, the most
# charge beyond anonymous memory (what the chart's margin is for: kernel,
# BPF maps, sockets, page cache), and the OOM events.
#
# Usage (as root):  bench/pod_memory.sh [-l LIMIT_BYTES] [-t TARGETS] [-s PHASE_SECONDS]
# Output: a table on stdout and the samples in OUT/pod_memory.tsv; KEEP=1
# keeps the scratch directory (gspyd's log, the workloads' output).
set -Eeuo pipefail
trap 'echo "$bench: line $LINENO failed: $BASH_COMMAND" >&2' ERR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
bench=pod_memory
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
LIMIT=$((512 << 20))
TARGETS=10
PHASE=20
SHARE=0.75 # the chart's backoff.memoryBudgetShare
OUT=${OUT:-$root/out/bench}
while getopts "l:t:s:h" opt; do
  case $opt in
    l) LIMIT=$OPTARG ;;
    t) TARGETS=$OPTARG ;;
    s) PHASE=$OPTARG ;;
    *) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || die "run as root (gspyd loads BPF programs; cgroups need root)"
[[ $LIMIT =~ ^[0-9]+$ && $LIMIT -ge $((128 << 20)) ]] || die "LIMIT must be bytes, at least 128 MiB"
require_int TARGETS "$TARGETS" 1
require_int PHASE_SECONDS "$PHASE" 5
check_tools
command -v curl >/dev/null || die "curl not found"
mkdir -p "$OUT"

# The cgroup, v2 or v1 (memory controller): its files by what they hold.
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
  cg_v=2 cg_parent=/sys/fs/cgroup
  f_max=memory.max f_current=memory.current f_peak=memory.peak f_events=memory.events
elif [[ -d /sys/fs/cgroup/memory ]]; then
  # Beside this shell's own memory cgroup, so any limit above it holds.
  cg_v=1 cg_parent=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
  f_max=memory.limit_in_bytes f_current=memory.usage_in_bytes f_peak=memory.max_usage_in_bytes
  f_events=memory.oom_control
else
  die "no cgroup memory controller (neither v2 nor /sys/fs/cgroup/memory)"
fi

work=$(mktemp -d /tmp/gspy-pod-memory.XXXXXX)
gspyd_cgroup=$cg_parent/gspy-pod-memory.$$
pids=() loop_pids=() scraper_pid="" sampler_pid=""
cleanup() {
  set +e
  for p in "$sampler_pid" "$scraper_pid" "${loop_pids[@]}"; do [[ -n $p ]] && kill "$p" 2>/dev/null; done
  stop_gspyd
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  rmdir "$gspyd_cgroup" 2>/dev/null
  [[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

if ((cg_v == 2)); then
  grep -qw memory "$cg_parent/cgroup.subtree_control" || echo +memory >"$cg_parent/cgroup.subtree_control"
fi
mkdir "$gspyd_cgroup"
echo "$LIMIT" >"$gspyd_cgroup/$f_max"
[[ -f $gspyd_cgroup/memory.swap.max ]] && echo 0 >"$gspyd_cgroup/memory.swap.max"
[[ -f $gspyd_cgroup/memory.memsw.limit_in_bytes ]] && echo "$LIMIT" >"$gspyd_cgroup/memory.memsw.limit_in_bytes"

# The parts of the charge, in bytes: anon (gspyd's heap, most of VmRSS),
# file (page cache), kernel (BPF maps, slab, stacks), sock.
stat_of() { awk -v k="$1" '$1 == k { print $2 }' "$gspyd_cgroup/memory.stat"; }
parts() {
  if ((cg_v == 2)); then
    printf '%s\t%s\t%s\t%s' "$(stat_of anon)" "$(stat_of file)" "$(stat_of kernel)" "$(stat_of sock)"
  else
    printf '%s\t%s\t%s\t%s' "$(stat_of rss)" "$(stat_of cache)" \
      "$(cat "$gspyd_cgroup/memory.kmem.usage_in_bytes")" "$(cat "$gspyd_cgroup/memory.kmem.tcp.usage_in_bytes")"
  fi
}

for w in goroutines cpuwork; do
  (cd "$root/tests/workloads/$w" && GOENV=off GOFLAGS='' CGO_ENABLED=0 "$GO" build -o "$work/$w" .)
done
# The goroutines workload exits at a line (or EOF) on its stdin: a FIFO
# this shell holds open keeps it parked.
mkfifo "$work/hold"
exec 3<>"$work/hold"
for ((i = 0; i < TARGETS; i++)); do
  "$work/goroutines" -profile="$work/g$i.txt" <"$work/hold" >/dev/null 2>&1 &
  pids+=($!)
done
"$work/cpuwork" -duration=$((PHASE * 4 + 60))s >/dev/null 2>&1 &
pids+=($!)
targets=("${pids[@]:0:TARGETS}")

budget=$(awk -v l="$LIMIT" -v s="$SHARE" 'BEGIN{ printf "%d", l * s }')
# The chart's arguments.
start_gspyd --metrics-listen=127.0.0.1:0 --backoff-memory-budget="$budget"
start_scraper $((PHASE * 4 + 60)) "${targets[0]}"

set_phase() { echo "$1" >"$work/phase"; }
set_phase idle
(while :; do
  printf '%s\t%s\t%s\t%s\n' "$(cat "$work/phase")" "$(cat "$gspyd_cgroup/$f_current")" "$(parts)" \
    "$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$dproc/status" 2>/dev/null || echo 0)"
  sleep 0.5
done) >"$OUT/pod_memory.tsv" &
sampler_pid=$!

pull_loop() {
  while :; do
    "$GSPY_BIN" --server="$addr" profile cpu --duration=5s -o "$work/cpu.pb.gz" >/dev/null 2>&1 || true
    local p
    for p in "${targets[@]}"; do
      "$GSPY_BIN" --server="$addr" goroutines --pid="$p" >/dev/null 2>&1 || true
    done
  done
}
block_loop() {
  local p args=()
  for p in "${targets[@]}"; do args+=(--pid="$p"); done
  while :; do
    "$GSPY_BIN" --server="$addr" profile block "${args[@]}" --duration=5s -o "$work/block.pb.gz" >/dev/null 2>&1 || true
  done
}

sleep "$PHASE"
set_phase pulls
pull_loop &
loop_pids+=($!)
block_loop &
loop_pids+=($!)
sleep "$PHASE"

set_phase heavy
"$work/goroutines" -profile="$work/heavy.txt" -shared-labels=1200 <"$work/hold" >/dev/null 2>&1 &
heavy=$!
pids+=("$heavy")
sleep 3
# Dumps of a target whose goroutines carry ~300 MB of labels, back to
# back: gspy sends each distinct label set once, so gspyd holds far less
# than the text the client prints.
(while :; do "$GSPY_BIN" --server="$addr" goroutines --pid="$heavy" >/dev/null 2>&1 || true; done) &
loop_pids+=($!)
sleep "$PHASE"
set_phase after
kill "$heavy" 2>/dev/null || true
sleep "$PHASE"
kill "$sampler_pid"
sampler_pid=""

events=$(tr '\n' ' ' <"$gspyd_cgroup/$f_events")
peak=$(cat "$gspyd_cgroup/$f_peak" 2>/dev/null || echo 0)
mib() { awk -v b="$1" 'BEGIN{ printf "%.0f", b / 1048576 }'; }
{
  printf 'gspyd in a cgroup with a memory limit of %d MiB, back-off budget %d MiB (%.2f), %d targets of 3250 goroutines\n' \
    "$(mib "$LIMIT")" "$(mib "$budget")" "$SHARE" "$TARGETS"
  printf '%-6s %9s %9s %9s %9s %9s %9s %14s\n' phase current rss anon file kernel sock "current-anon"
  for p in idle pulls heavy after; do
    awk -F'\t' -v p="$p" '$1 == p {
        if ($2 > c) c = $2; if ($7 > r) r = $7; if ($3 > a) a = $3
        if ($4 > f) f = $4; if ($5 > k) k = $5; if ($6 > s) s = $6
        if ($2 - $3 > d) d = $2 - $3 }
      END { m = 1048576; printf "%-6s %9.0f %9.0f %9.0f %9.0f %9.0f %9.1f %14.0f  (MiB, peaks)\n",
        p, c/m, r/m, a/m, f/m, k/m, s/m, d/m }' "$OUT/pod_memory.tsv"
  done
  echo "cgroup v$cg_v peak $(mib "$peak") MiB; OOM events: $events"
  echo "margin left by the chart: $(mib $((LIMIT - budget))) MiB"
} | tee "$OUT/pod_memory.txt"
