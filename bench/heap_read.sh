#!/usr/bin/env bash
# Time to read a heap profile of 10k and 100k buckets from a live process:
# `gspy profile heap --pid=P` against bench/heapbuckets (one bucket per
# allocation stack, MemProfileRate=1), 5 runs per size. gspy prints the
# buckets it read and the read's wall time (the bucket walk only) to
# stderr; cpu= is gspy's whole user+system time (opening the binary,
# reading, symbolizing, writing the pprof), which a busy machine does not
# inflate as it does wall times.
#   bench/heap_read.sh            # 10000 and 100000 buckets
#   bench/heap_read.sh 1000000    # other sizes
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
gspy="${GSPY_BIN:-$repo/build/cli/gspy}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$repo/bench/heapbuckets" && CGO_ENABLED=0 go build -o "$work/heapbuckets" .)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)
for n in "${sizes[@]}"; do
  "$work/heapbuckets" -buckets="$n" > "$work/ready" &
  pid=$!
  until grep -q ready "$work/ready"; do sleep 0.1; done
  best=""
  for i in 1 2 3 4 5; do
    TIMEFORMAT="%R %U %S"
    { time "$gspy" profile heap --pid="$pid" -o "$work/heap.pb.gz" 2> "$work/err" ||
      { cat "$work/err" >&2; kill "$pid"; exit 1; }; } 2> "$work/time"
    read -r wall user sys < "$work/time"
    read_line=$(grep -o 'read [0-9]* buckets in [0-9.]* ms' "$work/err" || true)
    echo "buckets=$n run=$i wall=${wall}s cpu=$(awk "BEGIN{print $user + $sys}")s ($read_line)"
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done
