#!/usr/bin/env bash
# Cross-builds static parley binaries for every release target, with
# -trimpath and no cgo (modernc SQLite is pure Go), into dist/, and writes
# SHA256SUMS beside them.
#
#   scripts/release.sh            # version from `git describe`, else dev
#   VERSION=v1.2.0 scripts/release.sh
#   TARGETS="linux/amd64" OUT=/tmp/dist scripts/release.sh
#   scripts/release.sh --check    # build every target to /dev/null (CI)
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS="${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}"
OUT="${OUT:-dist}"
check=false
if [[ "${1:-}" == "--check" ]]; then check=true; fi

version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
commit="$(git rev-parse HEAD 2>/dev/null || true)"
date="$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w -X main.version=${version} -X main.commit=${commit} -X main.buildDate=${date}"

if ! $check; then
	rm -rf "$OUT"
	mkdir -p "$OUT"
fi
failed=()
for target in $TARGETS; do
	goos="${target%/*}" goarch="${target#*/}"
	ext=""
	if [[ "$goos" == windows ]]; then ext=".exe"; fi
	if $check; then
		dst=/dev/null
	else
		dst="$OUT/parley-${version}-${goos}-${goarch}${ext}"
	fi
	echo "build $goos/$goarch"
	if ! CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch" go build -trimpath -ldflags "$ldflags" -o "$dst" ./cmd/parley; then
		failed+=("$target")
	fi
done
if ((${#failed[@]} > 0)); then
	echo "these targets do not build: ${failed[*]}" >&2
	exit 1
fi
if ! $check; then
	(cd "$OUT" && sha256sum parley-* >SHA256SUMS)
	echo "wrote $(ls "$OUT" | grep -c '^parley-') binaries and SHA256SUMS to $OUT/"
fi
