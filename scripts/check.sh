#!/usr/bin/env bash
# The whole test suite, as CI runs it: the library and every test built and
# run with g++, then under AddressSanitizer+UBSan (g++) and under
# ThreadSanitizer (clang, -O2: the suite's clang build), then the stress
# tests against a schedule-perturbation build of the library, then the
# libFuzzer harnesses (scripts/fuzz.sh: each
# replays its committed corpus, then fuzzes for BRAID_FUZZ_SECONDS, 10 by
# default).  Usage: scripts/check.sh [build-root]   (default: build-check)
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-build-check}
jobs=$(nproc)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

# name | C compiler | C++ compiler | extra CMake arguments
# Each configuration builds the whole suite (about a quarter of CI's time on
# two cores), so clang runs it once, instrumented: the ThreadSanitizer build
# is an optimised (-O2) clang build of every test.
# The last configuration, "perturb", builds the library with schedule
# perturbation (src/util/perturb.hpp) and runs only the stress tests
# (ctest label "stress"), each for a bounded time (BRAID_STRESS_SECONDS).
# The sanitizer configurations keep the ABI tests: tests/abi/abi_tests.cmake
# registers there only those that work instrumented (abi.headers_*,
# abi.exports, abi.bad_input), so bad_input runs under ASan+UBSan and TSan.
# ON is spelled out so that a build root configured with it OFF earlier
# (the CMake cache keeps options) gets them back.
configs=(
  "gcc|gcc|g++|-DCMAKE_BUILD_TYPE=RelWithDebInfo"
  "asan|gcc|g++|-DCMAKE_BUILD_TYPE=Debug -DBRAID_SANITIZE=address,undefined -DBRAID_BUILD_ABI_TESTS=ON -DBRAID_BUILD_BENCH=OFF"
  "tsan|clang-19|clang++-19|-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRAID_SANITIZE=thread -DBRAID_BUILD_ABI_TESTS=ON -DBRAID_BUILD_BENCH=OFF"
  "perturb|gcc|g++|-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRAID_PERTURB=ON -DBRAID_BUILD_ABI_TESTS=OFF -DBRAID_BUILD_BENCH=OFF -DBRAID_BUILD_EXAMPLES=OFF"
)
stress_seconds=${BRAID_STRESS_SECONDS:-20}

passed=0
failed=0
tests_passed=0
tests_failed=0
status=()  # "name: green" or "name: FAILED", printed again at the end
failures=()  # ctest's "The following tests FAILED" lines, per configuration
for c in "${configs[@]}"; do
  IFS='|' read -r name cc cxx extra <<<"$c"
  dir="$root/$name"
  echo "=== $name: configure and build ($cxx)"
  # shellcheck disable=SC2086
  CC=$cc CXX=$cxx cmake -S . -B "$dir" -G Ninja $extra >/dev/null
  ctest_args=()
  if [ "$name" = perturb ]; then
    # only the stress tests (tests/*_stress.cpp, one executable), each
    # running for a bounded time
    cmake --build "$dir" -j "$jobs" --target braid stress_tests
    ctest_args=(-L stress)
    export BRAID_STRESS_SECONDS=$stress_seconds
  else
    cmake --build "$dir" -j "$jobs"
    unset BRAID_STRESS_SECONDS
  fi
  echo "=== $name: test"
  log="$dir/ctest.log"
  if ctest --test-dir "$dir" "${ctest_args[@]}" -j "$jobs" --output-on-failure --timeout 600 2>&1 | tee "$log"; then
    passed=$((passed + 1))
    status+=("$name: green")
  else
    failed=$((failed + 1))
    status+=("$name: FAILED")
    while IFS= read -r f; do failures+=("$name: $f"); done \
      < <(sed -n '/The following tests FAILED:/,$p' "$log" | grep -E '^[[:space:]]+[0-9]+ - ' || true)
  fi
  # "100% tests passed, 0 tests failed out of 78"
  if line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n1); then
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    bad=$(sed -E 's/.*, ([0-9]+) tests failed.*/\1/' <<<"$line")
    tests_passed=$((tests_passed + total - bad))
    tests_failed=$((tests_failed + bad))
  else
    tests_failed=$((tests_failed + 1))
  fi
done
# Coverage-guided fuzzing: every harness replays its corpus (past findings
# included), then fuzzes for a bounded time with fresh inputs in a scratch
# directory; a harness counts as one test.
echo "=== fuzz: libFuzzer harnesses (clang-19, ASan+UBSan)"
log="$root/fuzz.log"
mkdir -p "$root"
if scripts/fuzz.sh -t "${BRAID_FUZZ_SECONDS:-10}" -j "$jobs" -b "$root/fuzz" 2>&1 | tee "$log"; then
  passed=$((passed + 1))
  status+=("fuzz: green")
else
  failed=$((failed + 1))
  status+=("fuzz: FAILED")
  while IFS= read -r f; do failures+=("fuzz: $f"); done < <(grep -E '^fuzz: .* FAILED' "$log" || true)
fi
# "fuzz: 7 of 7 harnesses passed"
if line=$(grep -E '^fuzz: [0-9]+ of [0-9]+ harnesses passed' "$log" | tail -n1); then
  ok=$(sed -E 's/^fuzz: ([0-9]+) of.*/\1/' <<<"$line")
  total=$(sed -E 's/^fuzz: [0-9]+ of ([0-9]+).*/\1/' <<<"$line")
  tests_passed=$((tests_passed + ok))
  tests_failed=$((tests_failed + total - ok))
else
  tests_failed=$((tests_failed + 1))
fi

# The summary comes last, so that the tail of a long CI log names what failed.
echo "=== summary"
printf '%s\n' "${status[@]}"
if [ "${#failures[@]}" -gt 0 ]; then
  echo "failed tests:"
  printf '  %s\n' "${failures[@]}"
fi
echo "configurations ($passed of $((passed + failed)) green): gcc, asan+ubsan, tsan (clang), perturb (stress tests only), fuzz"
echo "tests: $tests_passed passed, $tests_failed failed"
[ "$failed" -eq 0 ] && [ "$tests_failed" -eq 0 ]
