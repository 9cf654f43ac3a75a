#!/bin/bash
# Regenerates daemon/gobinary/layout_table.cc: builds a tiny Go program with
# each toolchain (downloaded through the module proxy by GOTOOLCHAIN) and
# reads runtime.g/m/gobuf offsets from its DWARF with gen_layout_table.
#
# Usage: tools/gen_layout_table/gen_layout_table.sh [GEN_BINARY] [go1.NN.P...]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
gen=${1:-$repo/build-gobinary/tools/gen_layout_table/gen_layout_table}
shift || true
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  # One toolchain per minor version; the layout does not change in patches.
  versions=(go1.18 go1.19 go1.20 go1.21.0 go1.22.0 go1.23.0 go1.24.0
            go1.25.5 local)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/go.mod" <<'GOMOD'
module gspy.gen/tiny

go 1.18
GOMOD
cat > "$work/main.go" <<'GOSRC'
package main

import "fmt"

func main() { fmt.Println("tiny") }
GOSRC
bins=()
for v in "${versions[@]}"; do
  echo "building with $v" >&2
  (cd "$work" && GOTOOLCHAIN=$v GOFLAGS= CGO_ENABLED=0 go build -o "bin-$v" .)
  bins+=("$work/bin-$v")
done
"$gen" "${bins[@]}" > "$repo/daemon/gobinary/layout_table.cc.new"
mv "$repo/daemon/gobinary/layout_table.cc.new" \
  "$repo/daemon/gobinary/layout_table.cc"
echo "wrote daemon/gobinary/layout_table.cc" >&2
