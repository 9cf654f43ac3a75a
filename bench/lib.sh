# Helpers shared by the bench/*.sh scripts; sourced, not run.
#
# The caller sets `bench` (its name, for messages) before sourcing, and
# `work` (its scratch directory) before start_gspyd. `pin_tools`, an array
# (empty by default), prefixes gspyd's command line, e.g. (taskset -c 0).
# Sourcing sets the defaults GSPYD_BIN, GSPY_BIN (the CMake build under the
# repository) and GO, unless the environment has them.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GSPYD_BIN=${GSPYD_BIN:-$bench_root/build/daemon/gspyd}
GSPY_BIN=${GSPY_BIN:-$bench_root/build/cli/gspy}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -v pin_tools ]] || pin_tools=()
dpid=""
addr=""

die() { echo "$bench: $*" >&2; exit 1; }

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

# start_gspyd: a fresh gspyd on a free loopback port (99 Hz, its default);
# sets dpid and addr once it listens.
start_gspyd() { # start_gspyd [FLAG...]: extra flags for gspyd
  : >"$work/gspyd.log"
  "${pin_tools[@]}" "$GSPYD_BIN" --listen=127.0.0.1:0 "$@" 2>"$work/gspyd.log" &
  dpid=$!
  local i
  for ((i = 0; i < 600; i++)); do
    addr=$(sed -n 's/^gspyd: listening on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$work/gspyd.log" | head -1)
    [[ -n $addr ]] && return 0
    kill -0 "$dpid" 2>/dev/null || { cat "$work/gspyd.log" >&2; die "gspyd exited during start-up"; }
    sleep 0.1
  done
  die "gspyd did not print its listening line within 60 s"
}

stop_gspyd() {
  [[ -n $dpid ]] || return 0
  kill -TERM "$dpid" 2>/dev/null || true
  wait "$dpid" 2>/dev/null || true
  dpid=""
}

# median: of the numbers on stdin (spaces or newlines).
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
