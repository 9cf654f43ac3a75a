#!/bin/bash
# Regenerates golang/binary/layout_table.cc and books_layout_table.cc: builds
# a tiny Go program with each toolchain (downloaded through the module proxy
# by GOTOOLCHAIN) and reads runtime.g/m/gobuf offsets (and those of the
# runtime's books: mstats, schedt, gcControllerState, ...) from its DWARF
# with gen_layout_table.
#
# Usage: tools/gen_layout_table/gen_layout_table.sh [GEN_BINARY] [go1.NN.P...]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
gen=${1:-$repo/build-gobinary/tools/gen_layout_table/gen_layout_table}
shift || true
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  # One toolchain per minor version; the layout does not change in patches.
  versions=(go1.18.10 go1.19.13 go1.20.14 go1.21.13 go1.22.12 go1.23.12
            go1.24.13 go1.25.14 go1.26.11 go1.27.4)
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
  (cd "$work" && GOENV=off GOFLAGS= GOTOOLCHAIN=$v CGO_ENABLED=0 go build -o "bin-$v" .)
  bins+=("$work/bin-$v")
done
# Both tables come from the same binaries; write them next to each other.
for table in layout_table books_layout_table; do
  flag=
  [ "$table" = books_layout_table ] && flag=--books
  "$gen" $flag "${bins[@]}" > "$repo/golang/binary/$table.cc.new"
  mv "$repo/golang/binary/$table.cc.new" "$repo/golang/binary/$table.cc"
  # The checked-in tables are clang-formatted; keep regenerations diff-clean.
  if command -v clang-format >/dev/null; then
    clang-format -i "$repo/golang/binary/$table.cc"
  fi
  echo "wrote golang/binary/$table.cc" >&2
done
