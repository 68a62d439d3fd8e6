#!/bin/sh
# abi.baseline: compares the ABI of a built libbraid.so with the committed
# baseline (tests/abi/libbraid.abi) using libabigail.
#
#   check_abi.sh <libbraid.so> <include-dir> <baseline.abi> <unstable.abignore> <scratch-dir> [abidw] [abidiff]
#   check_abi.sh --update <libbraid.so> <include-dir> <baseline.abi> <unstable.abignore> <scratch-dir> [abidw] [abidiff]
#
# The ABI is read from the library's debug info, restricted to what the
# public C headers (<include-dir>/braid) define: the C++ internals behind the
# opaque handles are not part of it, and a g++ and a clang build of the same
# sources compare equal against the baseline (which --update writes from a
# g++ build only: see there).
#
# Verdict, on the stable tier (every symbol but BRAID_UNSTABLE_*, which
# unstable.abignore suppresses):
#   - functions only added: passes (and lists them);
#   - a function removed, or its signature (a parameter or return type, a
#     type it reaches) changed: fails;
#   - another SONAME (a new series): fails until the baseline is rewritten;
#   - abidiff itself failing: fails.
# abidiff's exit status is a bit mask: 1 error, 2 usage error, 4 ABI change
# (additions count), 8 incompatible change (removals).  An addition and a
# change both give 4, so a second run with --no-added-syms tells them apart.
# Changes to the unstable tier (BRAID_UNSTABLE_*) are reported after, and
# never fail the check.
#
# --update writes the library's ABI to <baseline.abi> instead (see
# scripts/update-abi-baseline.sh: only when a release means to change it).
set -u

update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
if [ $# -lt 5 ]; then
    echo "usage: $0 [--update] <libbraid.so> <include-dir> <baseline.abi> <unstable.abignore> <scratch-dir> [abidw] [abidiff]" >&2
    exit 2
fi
lib=$1
inc=$2/braid
baseline=$3
unstable_suppr=$4
scratch=$5
ABIDW=${6:-abidw}
ABIDIFF=${7:-abidiff}

for f in "$lib" "$unstable_suppr"; do
    [ -e "$f" ] || { echo "abi.baseline: not found: $f" >&2; exit 2; }
done
[ -d "$inc" ] || { echo "abi.baseline: no public headers under $inc" >&2; exit 2; }
rm -rf "$scratch"
mkdir -p "$scratch"

# The one definition of how the ABI is read (the baseline and the check
# must use the same).  No paths, architecture, DT_NEEDED or parameter names: nothing
# that differs between two checkouts, two compilers or two LP64 machines.
ABIDW_FLAGS="--no-corpus-path --no-comp-dir-path --no-architecture --no-elf-needed --short-locs --no-parameter-names
             --drop-private-types --drop-undefined-syms --exported-interfaces-only --type-id-style hash"

current=$scratch/current.abi
# shellcheck disable=SC2086
if ! "$ABIDW" $ABIDW_FLAGS --headers-dir "$inc" --out-file "$current" "$lib" >"$scratch/abidw.log" 2>&1; then
    cat "$scratch/abidw.log"
    echo "abi.baseline: FAIL: $ABIDW could not read $lib (is it built with debug info?)"
    exit 1
fi
nfuncs=$(grep -c '<function-decl ' "$current")
nsyms=$(grep -c '<elf-symbol ' "$current")

if [ "$nfuncs" -eq 0 ]; then
    echo "abi.baseline: FAIL: $lib has no debug info for its functions (build it with -g: RelWithDebInfo or Debug)"
    exit 1
fi

if [ $update -eq 1 ]; then
    # The handles are opaque: a baseline must not record what is inside one,
    # or every change to the internals would read as an ABI change.  abidw
    # sees the inside of a struct when it cannot tell where the struct is
    # defined; libabigail 2.2 cannot with clang's DWARF 5 (a type declared in
    # the .cpp being compiled has file index 0), so build the baseline's
    # library with g++ (or clang with -gdwarf-4).
    # The structs the headers define on purpose (plain data the caller
    # fills in or reads: braid_io_slice and braid_io_mut_slice, a buffer's
    # pointer and length; the size-prefixed metrics structs; the task dump's
    # and the stall report's structs; a completion queue's braid_completion
    # record; the unstable tier's braid_task_vtable)
    # are ABI and are recorded; every other braid_ struct is an opaque
    # handle.
    public_structs="braid_io_slice braid_io_mut_slice braid_metrics braid_worker_metrics braid_task_info braid_trace_frame braid_stall_report braid_completion braid_task_vtable"
    inside=$(sed -n "s/.*<class-decl name='\(braid_[A-Za-z0-9_]*\)' size-in-bits=.*/\1/p" "$current" | sort -u |
             grep -v -x -F "$(printf '%s\n' $public_structs)")
    if [ -n "$inside" ]; then
        echo "abi.baseline: refusing to write $baseline: the debug info of $lib shows the inside of"
        echo "these opaque handles (their definitions' source files are unknown to abidw):"
        echo "$inside" | sed -e 's/^/    /'
        echo "Build the library with g++ (scripts/update-abi-baseline.sh does) or with clang -gdwarf-4."
        exit 1
    fi
    cp "$current" "$baseline" || exit 1
    echo "abi.baseline: wrote $baseline: $nsyms symbols, $nfuncs with their signature, from $lib"
    exit 0
fi

if [ ! -e "$baseline" ]; then
    echo "abi.baseline: FAIL: no baseline at $baseline (scripts/update-abi-baseline.sh writes it)"
    exit 1
fi

# Runs abidiff on the baseline and the current ABI; prints its report; sets rc.
run_abidiff() { # log-name extra-args...
    log=$scratch/$1
    shift
    # Both sides were restricted to the public headers' types when abidw read
    # them.  No --headers-dir1/--headers-dir2 here: with them abidiff also
    # filters out changes that reach a type defined outside include/braid, and
    # the system's typedefs are (a parameter changed from int64_t to int32_t
    # was "1 filtered out" and exit status 0).  And abidiff
    # --drop-private-types on ABIXML input aborts in libabigail 2.2.
    "$ABIDIFF" "$@" "$baseline" "$current" >"$log" 2>&1
    rc=$?
}
bits() { # describes abidiff's exit status
    [ "$1" -gt 15 ] && { echo " abnormal (killed by a signal?)"; return; }
    d=""
    [ $(($1 & 1)) -ne 0 ] && d="$d error"
    [ $(($1 & 2)) -ne 0 ] && d="$d usage-error"
    [ $(($1 & 4)) -ne 0 ] && d="$d ABI_CHANGE"
    [ $(($1 & 8)) -ne 0 ] && d="$d ABI_INCOMPATIBLE_CHANGE"
    echo "${d:- none}"
}

echo "== stable tier: $ABIDIFF $(basename "$baseline") (baseline) -> $lib"
run_abidiff stable.log --suppressions "$unstable_suppr"
full_rc=$rc
sed -e 's/^/    | /' "$scratch/stable.log"
echo "   abidiff exit status $full_rc:$(bits $full_rc)"

verdict=pass
why=""
if [ $full_rc -gt 15 ] || [ $((full_rc & 3)) -ne 0 ]; then
    verdict=fail
    why="abidiff failed (exit status $full_rc)"
elif [ $((full_rc & 8)) -ne 0 ]; then
    verdict=fail
    why="incompatible change: a function or symbol of the stable ABI was removed (or the SONAME changed: a new series starts with a new baseline)"
elif [ $((full_rc & 4)) -ne 0 ]; then
    run_abidiff stable_no_added.log --suppressions "$unstable_suppr" --no-added-syms
    echo "   without additions (--no-added-syms): exit status $rc:$(bits $rc)"
    if [ $rc -gt 15 ] || [ $((rc & 3)) -ne 0 ]; then
        verdict=fail
        why="abidiff failed (exit status $rc)"
    elif [ $((rc & 12)) -ne 0 ]; then
        verdict=fail
        why="a function of the stable ABI changed (its signature or a type it uses)"
    else
        why="functions added, nothing removed or changed"
    fi
else
    why="no change"
fi

# The unstable tier, for information: suppress everything that is not in a
# BRAID_UNSTABLE_* node.
cat >"$scratch/stable.abignore" <<'EOF'
[suppress_function]
  symbol_version_regexp = ^BRAID_[0-9]
[suppress_variable]
  symbol_version_regexp = ^BRAID_[0-9]
EOF
run_abidiff unstable.log --suppressions "$scratch/stable.abignore"
echo
echo "== unstable tier (BRAID_UNSTABLE_*, outside the stability promise; never fails): exit status $rc:$(bits $rc)"
sed -e 's/^/    | /' "$scratch/unstable.log"
if [ $rc -le 15 ] && [ $((rc & 12)) -ne 0 ]; then
    echo "   The unstable tier changed since the baseline.  C++ programs built against the"
    echo "   released headers call these functions: a release that ships an incompatible"
    echo "   change renames its version node (BRAID_UNSTABLE_x.y in cmake/braid.map)."
fi

echo
if [ $verdict = fail ]; then
    echo "abi.baseline: FAIL: $why."
    echo "  If this change is meant to ship, it needs a new ABI series (see \"ABI stability\""
    echo "  in docs/c-api.md) and the baseline regenerated with scripts/update-abi-baseline.sh."
    exit 1
fi
echo "abi.baseline: ok: $why ($nsyms symbols, $nfuncs with their signature)."
exit 0
