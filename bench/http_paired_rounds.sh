#!/usr/bin/env bash
# The per-round ratios of several bench/http_paired.sh runs taken together:
# one 12-round run on a 2-vCPU VM scatters its p99 ratio by +-5-10% (its
# noise row shows it), so a 5% goal is read over the rounds of several runs.
# Per mode: the rounds kept (runs where the generator was late are left
# out, as in each run), the median of their p99 and p50 ratios, and the
# balanced median (sqrt of the median with server A treated x the median
# with B treated, so that a slot's own tail does not lean the result).
#
# Usage: bench/http_paired_rounds.sh RUN.json...   (http_paired*.json files)
set -euo pipefail
bench=http_paired_rounds
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
(($# > 0)) || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
command -v jq >/dev/null || die "needs jq (scripts/install-deps installs it)"
for f in "$@"; do [[ -r $f ]] || die "cannot read $f"; done

# median: of the numbers on stdin, one per line; "null" for none.
median() { sort -g | awk '{a[NR]=$1} END{ if (!NR) { print "null"; exit }
  printf "%.4f", (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2 }'; }

# ratios MODE FIELD [SLOT]: that ratio of every kept round of MODE.
ratios() {
  jq -r --arg m "$1" --arg f "$2" --arg s "${3:-}" '.runs[]
    | select(.mode == $m and (.generator_late | not))
    | select($s == "" or .treated.server == $s) | .[$f] | select(. != null)' "${files[@]}"
}

files=("$@")
modes=$(jq -r '.runs[].mode' "${files[@]}" | awk '!seen[$0]++')
echo "${#files[@]} runs: $(jq -r '.date' "${files[@]}" | paste -sd' ')"
printf '%-8s %6s %10s %10s %10s\n' mode rounds "p99 med" "balanced" "p50 med"
for m in $modes; do
  n=$(ratios "$m" p99_ratio | wc -l)
  p99=$(ratios "$m" p99_ratio | median)
  p50=$(ratios "$m" p50_ratio | median)
  a=$(ratios "$m" p99_ratio a | median)
  b=$(ratios "$m" p99_ratio b | median)
  bal=null
  [[ $a != null && $b != null ]] && bal=$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.4f", sqrt(a*b)}')
  printf '%-8s %6d %10s %10s %10s\n' "$m" "$n" "$p99" "$bal" "$p50"
done
echo "ratios treated/control in the same window; noise: neither treated (the floor)"
