#!/usr/bin/env bash
# Coverage-guided fuzzing of braid: builds the libFuzzer harnesses
# (tests/fuzz/fuzz_*.cpp) with clang-19, the library itself instrumented
# (-fsanitize=fuzzer-no-link,address,undefined) so that coverage reaches
# into it, then for each harness:
#   1. replays its committed corpus (tests/fuzz/corpus/<name>/): every seed
#      and every input that once found a defect runs again, as a regression
#      test;
#   2. fuzzes for SECONDS, writing new inputs to a scratch directory (the
#      committed corpus is read, never modified).
# Harnesses run in parallel, JOBS at a time.  A failure leaves the input
# that caused it in BUILD/fuzz-out/<name>/ (crash-*, timeout-*, oom-*,
# leak-*), prints it and the end of the harness's log, and the script
# exits 1.  Inputs the run found that raised coverage are left in
# BUILD/fuzz-out/<name>/new/: copy the interesting ones into the corpus.
#
# Usage: scripts/fuzz.sh [-t SECONDS] [-j JOBS] [-b BUILD] [HARNESS...]
#   -t  seconds of fuzzing per harness (default 300; scripts/check.sh: 10)
#   -j  harnesses at once (default: the number of cores)
#   -b  build directory (default build-fuzz)
#   HARNESS: names like addr or fuzz_addr (default: every tests/fuzz/fuzz_*.cpp)
#   BRAID_FUZZ_CMAKE_ARGS: extra CMake arguments (e.g. a compiler launcher)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=300
jobs=$(nproc)
build=build-fuzz
while getopts "t:j:b:" opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    b) build=$OPTARG ;;
    *) sed -n '2,25p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -gt 0 ]; then
  harnesses=()
  for h in "$@"; do harnesses+=("fuzz_${h#fuzz_}"); done
else
  mapfile -t harnesses < <(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
fi

# halt_on_error: a UBSan report is a crash libFuzzer records; leaks too.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

echo "=== fuzz: configure and build (clang-19, ASan+UBSan, libFuzzer)"
# ON/OFF spelled out: a build directory configured otherwise before gets them.
# shellcheck disable=SC2086
CC=clang-19 CXX=clang++-19 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBRAID_SANITIZE=fuzzer-no-link,address,undefined \
  -DCMAKE_C_FLAGS=-fno-sanitize-recover=undefined -DCMAKE_CXX_FLAGS=-fno-sanitize-recover=undefined \
  -DBRAID_BUILD_FUZZ=ON -DBRAID_BUILD_TESTS=OFF -DBRAID_BUILD_EXAMPLES=OFF -DBRAID_BUILD_BENCH=OFF \
  ${BRAID_FUZZ_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$jobs" --target "${harnesses[@]}"

out="$build/fuzz-out"
rm -rf "$out"
mkdir -p "$out"

# One harness: replay, then fuzz.  Writes $out/<name>/result (ok or failed).
run_one() {
  local name=$1 dir="$out/$1" corpus="tests/fuzz/corpus/${1#fuzz_}" bin="$build/tests/fuzz/$1"
  mkdir -p "$dir/new"
  local -a seeds=()
  if [ -d "$corpus" ]; then mapfile -t seeds < <(find "$corpus" -type f | sort); fi
  {
    echo "--- $name: replaying ${#seeds[@]} corpus inputs"
    if [ ${#seeds[@]} -gt 0 ] && ! "$bin" -timeout=10 -artifact_prefix="$dir/" "${seeds[@]}"; then
      echo failed >"$dir/result"
      return
    fi
    echo "--- $name: fuzzing for $seconds s"
    local -a dirs=("$dir/new")
    [ -d "$corpus" ] && dirs+=("$corpus")
    if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$dir/" "${dirs[@]}"; then
      echo failed >"$dir/result"
      return
    fi
    echo ok >"$dir/result"
  } >"$dir/log" 2>&1
}

echo "=== fuzz: ${#harnesses[@]} harnesses, corpus replay + $seconds s each, $jobs at a time"
running=0
for h in "${harnesses[@]}"; do
  run_one "$h" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

passed=0
failed=0
for h in "${harnesses[@]}"; do
  dir="$out/$h"
  if [ "$(cat "$dir/result" 2>/dev/null)" = ok ]; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n1)
    echo "fuzz: $h ok (${execs:-?} inputs; $(find "$dir/new" -type f | wc -l) new)"
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "fuzz: $h FAILED; the end of its log ($dir/log):"
    tail -n 60 "$dir/log"
    for f in "$dir"/crash-* "$dir"/timeout-* "$dir"/oom-* "$dir"/leak-* "$dir"/slow-unit-*; do
      [ -f "$f" ] || continue
      echo "input that failed: $f"
      od -A d -t x1 "$f" | head -n 20
      echo "reproduce: $build/tests/fuzz/$h $f"
    done
  fi
done
echo "fuzz: $passed of $((passed + failed)) harnesses passed"
[ "$failed" -eq 0 ]
