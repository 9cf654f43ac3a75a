#!/bin/bash
# Regenerates golang/runtime/wait_reason_table.cc: builds a tiny Go program with
# each toolchain (through the module proxy, by GOTOOLCHAIN) and reads
# runtime.waitReasonStrings out of it with gen_wait_reasons.
#
# Usage: tools/gen_wait_reasons/gen_wait_reasons.sh [go1.NN.P...]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  # One toolchain per minor version; the enum does not change in patches.
  versions=(go1.18.10 go1.19.13 go1.20.14 go1.21.13 go1.22.12 go1.23.12
            go1.24.13 go1.25.14 go1.26.11 go1.27.4)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'module gspy.gen/tiny\n\ngo 1.18\n' > "$work/go.mod"
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("tiny") }\n' \
  > "$work/main.go"
bins=()
for v in "${versions[@]}"; do
  echo "building with $v" >&2
  (cd "$work" && GOENV=off GOFLAGS= GOTOOLCHAIN=$v CGO_ENABLED=0 \
     go build -o "bin-$v" .)
  bins+=("$work/bin-$v")
done
(cd "$repo/tools/gen_wait_reasons" && GOTOOLCHAIN=local go build -o "$work/gen" .)
"$work/gen" "${bins[@]}" > "$repo/golang/runtime/wait_reason_table.cc.new"
mv "$repo/golang/runtime/wait_reason_table.cc.new" \
  "$repo/golang/runtime/wait_reason_table.cc"
echo "wrote golang/runtime/wait_reason_table.cc" >&2
