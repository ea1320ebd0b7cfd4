#!/usr/bin/env bash
# Build GmSSL 3.1.1 (the only SM2-CMS implementation at hand: OpenSSL 3.0 cannot encode SM2 CMS) from the
# source that ships in the easy-gmssl 2.0.1 sdist, into .tools/gmssl/ (gitignored). Idempotent: a
# finished build is reused. Prints the path of the `gmssl` binary on stdout; everything else goes to stderr.
# Needs: pip (the project's venv), cmake, make, a C compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PREFIX="$ROOT/.tools/gmssl"
BIN="$PREFIX/bin/gmssl"
VERSION_WANTED="GmSSL 3.1.1"

if [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -q "$VERSION_WANTED"; then
  echo "$BIN"
  exit 0
fi

for tool in cmake make cc; do
  command -v "$tool" >/dev/null || { echo "build-gmssl: $tool is missing" >&2; exit 1; }
done
PIP="$ROOT/.venv/bin/pip"
[ -x "$PIP" ] || PIP="$(command -v pip3 || command -v pip)"

CACHE="$ROOT/.tools/cache"
mkdir -p "$CACHE"
SDIST="$CACHE/easy_gmssl-2.0.1.tar.gz"
if [ ! -f "$SDIST" ]; then
  "$PIP" download --quiet --no-deps --no-binary :all: easy-gmssl==2.0.1 -d "$CACHE" >&2
fi
SRC="$CACHE/easy_gmssl-2.0.1/easy_gmssl/Core/GmSSL-3.1.1"
if [ ! -f "$SRC/CMakeLists.txt" ]; then
  tar -xzf "$SDIST" -C "$CACHE" easy_gmssl-2.0.1/easy_gmssl/Core/GmSSL-3.1.1
fi

BUILD="$CACHE/gmssl-build"
mkdir -p "$BUILD"
# Static library: the binary needs no LD_LIBRARY_PATH and nothing is installed system-wide.
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" >&2
make -C "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" gmssl-bin >&2
mkdir -p "$PREFIX/bin"
cp "$BUILD/bin/gmssl" "$BIN"
"$BIN" version | grep -q "$VERSION_WANTED" || { echo "build-gmssl: unexpected version: $("$BIN" version)" >&2; exit 1; }
echo "$BIN"
