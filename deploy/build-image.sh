#!/usr/bin/env bash
# Builds the gspy container image (deploy/Containerfile) from the CMake build:
# gspyd and gspy, stripped, plus exactly the shared libraries they load (what
# ldd lists), the dynamic loader, an ld.so.cache, CA certificates and a
# minimal /etc. No base image: nothing is pulled from a registry (none is
# reachable here), and nothing else is in the image (no shell, no package
# manager).
#
#   deploy/build-image.sh [--build-dir DIR] [--gspyd PATH] [--gspy PATH] [--tag TAG]
#
# --build-dir defaults to ./build (run scripts/test or cmake --build first);
# --gspyd/--gspy name the binaries directly. --tag defaults to
# localhost/gspy:latest ($GSPY_IMAGE); the image is also tagged
# localhost/gspy:APPVERSION (helm/gspy/Chart.yaml), the chart's default
# image. Needs podman (root) and binutils (strip). Prints the image's tag and
# size last. Run it again after a rebuild:
# unchanged binaries reuse podman's cached layer.
#
# Environment: PODMAN (default podman), PODMAN_GLOBAL_OPTS (default
# "--runtime runc --cgroup-manager=cgroupfs", what podman from Debian needs
# on this kind of machine), GSPY_IMAGE (the tag).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$repo/build"
gspyd_bin=""
gspy_bin=""
tag="${GSPY_IMAGE:-localhost/gspy:latest}"
while (($#)); do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    --gspyd) gspyd_bin="$2"; shift 2 ;;
    --gspyd=*) gspyd_bin="${1#*=}"; shift ;;
    --gspy) gspy_bin="$2"; shift 2 ;;
    --gspy=*) gspy_bin="${1#*=}"; shift ;;
    --tag) tag="$2"; shift 2 ;;
    --tag=*) tag="${1#*=}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# //;s/^#$//;p}' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
done
gspyd_bin="${gspyd_bin:-$build_dir/daemon/gspyd}"
gspy_bin="${gspy_bin:-$build_dir/cli/gspy}"
for b in "$gspyd_bin" "$gspy_bin"; do
  if [[ ! -x "$b" ]]; then
    echo "build-image: $b not found: build first (cmake -S . -B build -G Ninja && cmake --build build)" >&2
    exit 1
  fi
done
podman_cmd=("${PODMAN:-podman}")
read -r -a global_opts <<<"${PODMAN_GLOBAL_OPTS:---runtime runc --cgroup-manager=cgroupfs}"
podman_cmd+=("${global_opts[@]}")
command -v "${podman_cmd[0]}" >/dev/null || { echo "build-image: podman not found (scripts/install-deps installs it)" >&2; exit 1; }

stage="$(mktemp -d "${TMPDIR:-/tmp}/gspy-image.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
root="$stage/rootfs"
libdir=usr/lib/x86_64-linux-gnu
case "$(uname -m)" in
  x86_64) libdir=usr/lib/x86_64-linux-gnu ;;
  aarch64) libdir=usr/lib/aarch64-linux-gnu ;;
  *) libdir="usr/lib/$(uname -m)-linux-gnu" ;;
esac
mkdir -p "$root/usr/local/bin" "$root/$libdir" "$root/etc/ssl/certs" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/run"
chmod 1777 "$root/tmp"
# Debian's merged /usr: /lib and /lib64 are links into /usr.
ln -s usr/lib "$root/lib"

# The binaries, without debug info (36 MB -> ~6 MB for gspyd). gspyd reads
# other processes' binaries, never its own symbols.
strip --strip-unneeded -o "$root/usr/local/bin/gspyd" "$gspyd_bin"
strip --strip-unneeded -o "$root/usr/local/bin/gspy" "$gspy_bin"

# Every library the dynamic loader resolves for either binary, and the loader
# itself at the path the binaries name (PT_INTERP). All libraries go to one
# directory, which the ld.so.cache below lists.
interp="$(readelf -l "$gspyd_bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')"
ldd "$gspyd_bin" "$gspy_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u >"$stage/libs"
if grep -q "not found" < <(ldd "$gspyd_bin" "$gspy_bin"); then
  echo "build-image: a library is missing:" >&2
  ldd "$gspyd_bin" "$gspy_bin" | grep "not found" >&2
  exit 1
fi
while read -r lib; do
  cp -L "$lib" "$root/$libdir/$(basename "$lib")"
done <"$stage/libs"
interp_real="$(readlink -f "$interp")"
cp -L "$interp_real" "$root/$libdir/$(basename "$interp_real")"
mkdir -p "$root/$(dirname "${interp#/}")"
if [[ ! -e "$root/${interp#/}" ]]; then
  ln -s "/$libdir/$(basename "$interp_real")" "$root/${interp#/}"
fi
echo "/$libdir" >"$root/etc/ld.so.conf"
ldconfig -r "$root"

# /etc: root and nobody, name lookup through files then DNS (glibc's own NSS
# modules are inside libc since 2.34), CA certificates for TLS to the API
# server and push backends (gRPC reads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH).
printf 'root:x:0:0:root:/:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
elif [[ -f /usr/share/grpc/roots.pem ]]; then
  cp -L /usr/share/grpc/roots.pem "$root/etc/ssl/certs/ca-certificates.crt"
fi

# A fixed time stamp on every file: the same inputs give the same layer.
find "$root" -exec touch -h -d @0 {} +

cp "$repo/deploy/Containerfile" "$stage/Containerfile"
version="$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
"${podman_cmd[@]}" build --quiet --layers \
  --build-arg "GSPY_VERSION=$version" \
  -f "$stage/Containerfile" -t "$tag" "$stage" >/dev/null
# The previous build's image, if these binaries replaced it.
"${podman_cmd[@]}" image prune --force --filter label=org.opencontainers.image.title=gspy >/dev/null
app_version="$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$repo/helm/gspy/Chart.yaml")"
if [[ -n "$app_version" ]]; then
  "${podman_cmd[@]}" tag "$tag" "localhost/gspy:$app_version"
fi
size="$("${podman_cmd[@]}" image inspect --format '{{.Size}}' "$tag")"
echo "build-image: $tag, $((size / 1024 / 1024)) MiB ($size bytes), gspyd $version"
