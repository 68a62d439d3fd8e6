#!/bin/sh
# abi.bad_input_memcheck: runs a program under valgrind's memcheck and fails
# only on memory errors (invalid reads/writes, use after free, definite
# leaks) or when the program could not run or crashed; its own functional
# failures (exit status 1) are left to the plain test.
# usage: memcheck.sh <valgrind> <program> [args...]
valgrind=$1
shift
# Only definite leaks are shown (and fail): braid's allocator keeps slabs in
# per-thread caches and a global pool, which memcheck reports as "possibly
# lost" at exit; listing them would bury a real report.
"$valgrind" -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite "$@"
rc=$?
if [ $rc -eq 99 ]; then
    echo "memcheck: memory errors, see the valgrind report above"
    exit 1
fi
if [ $rc -ge 126 ]; then
    echo "memcheck: the program could not run or was killed (status $rc)"
    exit 1
fi
echo "memcheck: no memory errors (program exit status $rc)"
exit 0
