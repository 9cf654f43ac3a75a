#!/usr/bin/env bash
# Memory of gspyd under process churn: a CI node runs ~1000 short-lived Go
# processes a minute from 50 distinct binaries, beside 50 steady targets.
# gspyd runs with /metrics (scraped every 2 s: GC and goroutine collectors
# scan /proc and parse every binary) and `gspy targets` every 5 s; with
# PUSH=1 also push mode to a local sink (each process profiled and
# symbolized every 10 s). Reports gspyd's RSS (baseline, peak, settled) and
# open fds.
#
# Usage: sudo bench/churn_soak.sh [-c CHURN_SECONDS] [-s SETTLE_SECONDS] [-r PER_MINUTE]
#   defaults: 180 s of churn, 90 s to settle, 1000 processes a minute.
# GSPYD_BIN / GSPY_BIN: the binaries (default build/daemon/gspyd, build/cli/gspy).
set -euo pipefail
bench=churn_soak
source "$(dirname "$0")/lib.sh"
churn=180 settle=90 rate=1000 nbin=50 nsteady=50
while getopts "c:s:r:" o; do
  case $o in
    c) churn=$OPTARG ;; s) settle=$OPTARG ;; r) rate=$OPTARG ;;
    *) die "usage: $0 [-c CHURN_SECONDS] [-s SETTLE_SECONDS] [-r PER_MINUTE]" ;;
  esac
done
check_tools
command -v python3 >/dev/null || die "python3 is needed (the push sink)"
work=$(mktemp -d /tmp/gspy_churn.XXXXXX)
sink_pid="" scrape_pid="" steady_pids=()
cleanup() {
  set +e
  [[ -n $scrape_pid ]] && kill "$scrape_pid" 2>/dev/null
  ((${#steady_pids[@]})) && kill "${steady_pids[@]}" 2>/dev/null
  stop_gspyd
  [[ -n $sink_pid ]] && kill "$sink_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# 50 distinct executables (distinct files, as gspyd identifies binaries by
# device, inode, size and mtime): copies of one small program.
(cd "$bench_root/bench/churn" && GOENV=off GOFLAGS= CGO_ENABLED=0 "$GO" build -o "$work/churnwork" .)
for ((i = 0; i < nbin; i++)); do cp "$work/churnwork" "$work/bin$i"; done

# A push sink that accepts anything (the profile is built before it is sent).
cat >"$work/sink.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Type", "application/proto")
        self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$work/sink.py" >"$work/sink.port" &
sink_pid=$!
for ((i = 0; i < 50; i++)); do [[ -s $work/sink.port ]] && break; sleep 0.1; done
sink_port=$(head -1 "$work/sink.port")

push_flags=()
if [[ ${PUSH:-0} == 1 ]]; then
  push_flags=(--push-pyroscope-url="http://127.0.0.1:$sink_port" --push-interval=10s)
fi
start_gspyd --metrics-listen=127.0.0.1:0 "${push_flags[@]}"
maddr=""
for ((i = 0; i < 100; i++)); do
  maddr=$(sed -n 's|^gspyd: metrics on http://\(127\.0\.0\.1:[0-9]*\)/metrics$|\1|p' "$work/gspyd.log" | head -1)
  [[ -n $maddr ]] && break
  sleep 0.1
done
[[ -n $maddr ]] || die "no metrics address in gspyd's log"

for ((i = 0; i < nsteady; i++)); do
  "$work/bin$((i % nbin))" -life=0 &
  steady_pids+=($!)
done
# Scrapes and target listings all along.
(while :; do
  curl -s "http://$maddr/metrics" >/dev/null 2>&1 || true
  sleep 2
  curl -s "http://$maddr/metrics" >/dev/null 2>&1 || true
  sleep 2
  "$GSPY_BIN" --server="$addr" targets >/dev/null 2>&1 || true
  sleep 1
done) &
scrape_pid=$!

rss() { awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/$dpid/status"; }
hwm() { awk '/^VmHWM:/ {print int($2 / 1024)}' "/proc/$dpid/status"; }
fds() { ls "/proc/$dpid/fd" | wc -l; }

echo "$bench: warming up 30 s with $nsteady steady targets" >&2
sleep 30
base_rss=$(rss) base_fds=$(fds) base_hwm=$(hwm)
echo "$bench: baseline RSS ${base_rss} MiB (peak so far ${base_hwm} MiB), ${base_fds} fds" >&2

echo "$bench: churn: $rate short-lived processes a minute for $churn s" >&2
gap=$(awk -v r="$rate" 'BEGIN {printf "%.4f", 60 / r}')
end=$((SECONDS + churn))
n=0 max_rss=$base_rss max_fds=$base_fds
while ((SECONDS < end)); do
  # Lives of 1-3 s: about 30 alive at any time at 1000 a minute.
  "$work/bin$((RANDOM % nbin))" -life=$((1 + RANDOM % 3))s &
  n=$((n + 1))
  if ((n % 20 == 0)); then
    r=$(rss) f=$(fds)
    ((r > max_rss)) && max_rss=$r
    ((f > max_fds)) && max_fds=$f
    kill -0 "$dpid" 2>/dev/null || die "gspyd died during the churn"
  fi
  sleep "$gap"
done
peak=$(hwm)
echo "$bench: started $n processes; settling $settle s" >&2
sleep "$settle"
kill -0 "$dpid" 2>/dev/null || die "gspyd died"
set_rss=$(rss) set_fds=$(fds)
pct=$(awk -v s="$set_rss" -v b="$base_rss" 'BEGIN {printf "%+.1f", (s - b) * 100 / b}')
cat <<OUT
processes started:  $n in ${churn} s ($nbin binaries, $nsteady steady targets, push ${PUSH:-0})
baseline RSS:       ${base_rss} MiB (${base_fds} fds)
peak RSS (VmHWM):   ${peak} MiB (largest sampled ${max_rss} MiB, ${max_fds} fds)
settled RSS:        ${set_rss} MiB after ${settle} s (${pct}% of baseline, ${set_fds} fds)
OUT
