# Helpers shared by the bench/*.sh scripts; sourced, not run.
#
# The caller sets `bench` (its name, for messages) before sourcing, and
# `work` (its scratch directory) before start_gspyd. `pin_tools`, an array
# (empty by default), prefixes gspyd's command line, e.g. (taskset -c 0);
# `gspyd_wrap`, an array (empty by default), comes after it, e.g. an
# nsenter that runs gspyd in another PID namespace. `gspyd_cgroup`, a
# cgroup v2 directory (unset by default), is where gspyd runs instead.
# Sourcing sets the defaults GSPYD_BIN, GSPY_BIN (the CMake build under the
# repository) and GO, unless the environment has them.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GSPYD_BIN=${GSPYD_BIN:-$bench_root/build/daemon/gspyd}
GSPY_BIN=${GSPY_BIN:-$bench_root/build/cli/gspy}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -v pin_tools ]] || pin_tools=()
[[ -v gspyd_wrap ]] || gspyd_wrap=()
dpid=""  # the process start_gspyd started (gspyd, or its wrapper)
dproc="" # gspyd itself, for its CPU time and its signals
addr=""

die() { echo "$bench: $*" >&2; exit 1; }

# require_int NAME VALUE MIN: dies unless VALUE is an integer >= MIN.
require_int() { [[ $2 =~ ^[0-9]+$ && $2 -ge $3 ]] || die "$1 must be an integer >= $3, got '$2'"; }

# check_tools: the binaries exist and Go is there.
check_tools() {
  local b
  for b in "$GSPYD_BIN" "$GSPY_BIN"; do
    [[ -x $b ]] || die "$b not found; build it (cmake --build build --target gspyd gspy) or set GSPYD_BIN/GSPY_BIN"
  done
  [[ -x $GO ]] || die "go not found"
}

# cpu_ticks PID: utime+stime of a process, in clock ticks.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# child_of PID: the (first) child process of PID; empty, and success, when
# it has none yet (pgrep's failure would end a `set -e -o pipefail` caller).
child_of() { { pgrep -P "$1" || true; } | head -1; }

# start_gspyd: a fresh gspyd on a free loopback port (99 Hz, its default);
# sets dpid, dproc and addr once it listens.
start_gspyd() { # start_gspyd [FLAG...]: extra flags for gspyd
  : >"$work/gspyd.log"
  if [[ -n ${gspyd_cgroup:-} ]]; then
    # Into the cgroup before exec, so that everything gspyd allocates from
    # its first instruction on (the BPF maps too) is charged there.
    (echo "$BASHPID" >"$gspyd_cgroup/cgroup.procs" &&
      exec "${pin_tools[@]}" "$GSPYD_BIN" --listen=127.0.0.1:0 "$@" 2>"$work/gspyd.log") &
  else
    "${pin_tools[@]}" "${gspyd_wrap[@]}" "$GSPYD_BIN" --listen=127.0.0.1:0 "$@" 2>"$work/gspyd.log" &
  fi
  dpid=$!
  local i
  for ((i = 0; i < 600; i++)); do
    addr=$(sed -n 's/^gspyd: listening on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$work/gspyd.log" | head -1)
    if [[ -n $addr ]]; then
      dproc=$dpid
      # A wrapper that forks (nsenter into a PID namespace) does not pass
      # signals on: gspyd is its child.
      ((${#gspyd_wrap[@]} == 0)) || dproc=$(child_of "$dpid")
      [[ -n $dproc ]] || die "gspyd's process not found under pid $dpid"
      return 0
    fi
    kill -0 "$dpid" 2>/dev/null || { cat "$work/gspyd.log" >&2; die "gspyd exited during start-up"; }
    sleep 0.1
  done
  die "gspyd did not print its listening line within 60 s"
}

stop_gspyd() {
  [[ -n $dpid ]] || return 0
  kill -TERM "${dproc:-$dpid}" 2>/dev/null || true
  wait "$dpid" 2>/dev/null || true
  dpid=""
  dproc=""
}

# median: of the numbers on stdin (spaces or newlines).
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }

# --- Helpers of the HTTP benches (http_overhead.sh, http_paired.sh) ---

# to_ms VALUE: wrk latency (e.g. 512.00us, 1.81ms, 1.02s) in milliseconds.
to_ms() { awk -v v="$1" 'BEGIN{ u = v; sub(/^[0-9.]+/, "", u); n = v + 0
  if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; printf "%.4f", n }'; }

# wrk_result FILE: "REQ_PER_S P99_MS" from the output of `wrk --latency`;
# dies when either is missing, warns on errors and non-2xx answers.
wrk_result() {
  local r l
  r=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$1")
  l=$(awk '$1 == "99%" { print $2 }' "$1")
  [[ -n $r && -n $l ]] || { cat "$1" >&2; die "could not read wrk's output ($1)"; }
  grep -q "Non-2xx\|Socket errors" "$1" && echo "  warning: $(grep "Non-2xx\|Socket errors" "$1")" >&2
  echo "$r $(to_ms "$l")"
}

# wait_line FILE REGEX: until FILE has a line matching REGEX.
wait_line() {
  local i
  for ((i = 0; i < 300; i++)); do
    grep -qsE "$2" "$1" && return 0
    sleep 0.1
  done
  cat "$1" >&2
  die "no '$2' in $1 within 30 s"
}

# wait_probed PID WHAT: until `gspy targets` (of the gspyd at $addr) lists
# WHAT in PID's probes. PID as that gspyd sees it (its PID namespace).
wait_probed() {
  local i
  for ((i = 0; i < 300; i++)); do
    "$GSPY_BIN" --server="$addr" targets 2>/dev/null |
      awk -F'\t' -v p="$1" -v w="$2" '$1 == p { n = split($5, a, ","); for (i = 1; i <= n; i++) if (a[i] == w) f = 1 } END { exit !f }' &&
      return 0
    sleep 0.1
  done
  die "$2 probes not attached to pid $1 within 30 s"
}

# tools_cpu_idle: idle+iowait ticks of the tools' CPU (CPU 0 when pinned,
# else all CPUs): near 0 during the load means wrk was short of CPU, so
# anything else on that CPU (gspyd, gspy, the scraper) lowers the req/s
# without costing the server anything.
tools_cpu_idle() {
  local cpu=cpu
  ((${#pin_tools[@]})) && cpu=cpu0
  awk -v c="$cpu" '$1 == c { print $5 + $6 }' /proc/stat
}

# start_scraper SECS PID: scrapes gspyd's /metrics (gspyd started with
# --metrics-listen) once a second for SECS seconds in the background, as a
# Prometheus would, and returns once the runtime books of PID (as gspyd
# sees it) are in a scrape; sets scraper_pid. Pinned with the tools: a
# scraper on the server's CPU would be charged to gspy's books.
scraper_pid=""
start_scraper() {
  local secs=$1 pid=$2 murl="" i
  for ((i = 0; i < 100; i++)); do
    murl=$(sed -n 's/^gspyd: metrics on \(http:[^ ]*\)$/\1/p' "$work/gspyd.log" | head -1)
    [[ -n $murl ]] && break
    sleep 0.1
  done
  [[ -n $murl ]] || die "mode books: gspyd printed no metrics address"
  (for ((i = 0; i < secs; i++)); do
    "${pin_tools[@]}" curl -sf "$murl" >"$work/metrics.last" || exit 1
    sleep 1
  done) &
  scraper_pid=$!
  for ((i = 0; i < 100; i++)); do
    grep -q "^gspy_go_sched_gomaxprocs_threads{.*pid=\"$pid\"" "$work/metrics.last" 2>/dev/null && return 0
    sleep 0.1
  done
  die "mode books: no runtime books of pid $pid in /metrics (see $work)"
}
