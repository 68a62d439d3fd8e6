#!/usr/bin/env bash
# Regenerates tests/abi/libbraid.abi, the ABI baseline that the abi.baseline
# test compares every build against (tests/abi/check_abi.sh).
#
# Run it only when a release means to change the ABI: at the start of a new
# series (0.N -> 0.N+1, later N -> N+1: functions may be removed or changed,
# the SONAME changes with it), or at a release that added functions, so that
# the next releases of the series are checked against them too.  Additions
# alone never need it: the check passes them.  See "ABI stability" in
# docs/c-api.md.  Commit the new baseline in the release commit and say why.
#
# usage: scripts/update-abi-baseline.sh [build-dir]
#   build-dir: a build tree to take libbraid.so from (it is brought up to
#   date first).  Default: build-abi, configured here with g++ and
#   RelWithDebInfo (the baseline must come from debug info in which every
#   handle is opaque; check_abi.sh refuses one that is not).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-abi}

if [ ! -f "$dir/CMakeCache.txt" ]; then
  CC=gcc CXX=g++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBRAID_BUILD_TESTS=OFF -DBRAID_BUILD_EXAMPLES=OFF -DBRAID_BUILD_BENCH=OFF
fi
cmake --build "$dir" --target braid

lib=$(find "$dir" -maxdepth 2 -name 'libbraid.so.*.*.*' -type f | head -n 1)
if [ -z "$lib" ]; then
  echo "update-abi-baseline: no libbraid.so.X.Y.Z under $dir" >&2
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "=== what changes against the committed baseline"
tests/abi/check_abi.sh "$lib" include tests/abi/libbraid.abi tests/abi/unstable.abignore "$scratch/check" || true
echo
echo "=== writing the new baseline"
tests/abi/check_abi.sh --update "$lib" include tests/abi/libbraid.abi tests/abi/unstable.abignore "$scratch/update"
git --no-pager diff --stat -- tests/abi/libbraid.abi || true
