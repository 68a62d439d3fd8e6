#!/bin/sh
# abi.install_consumers: installs a braid build tree into a scratch prefix and
# builds programs against the INSTALLED copy only:
#   (a) consumer.c   through pkg-config
#   (b) consumer.cpp through pkg-config
#   (c) both         through find_package(braid) / braid::braid (C and C++ project)
#   (d) consumer.c   through find_package(braid) in a C-only project
# then runs every binary and checks its output and that it loaded the
# installed library (its SONAME, libbraid.so.0.1 for the 0.1 series), and
# checks the version rules of docs/c-api.md ("ABI stability"):
#   (e) find_package(braid X.Y) accepts only the installed series, and
#       pkg-config's version answers the documented series query;
# that the unstable tier is installed apart (include/braid/unstable/), and
# that the installed headers pass the header lint (lint_headers.py).
#
# usage: install_consumers.sh <build-dir> <consumer-src-dir> <scratch-dir> [cmake] [cc] [cxx] [soname]
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 <build-dir> <consumer-src-dir> <scratch-dir> [cmake] [cc] [cxx] [soname]" >&2
    exit 2
fi
build=$1
src=$2
scratch=$3
CMAKE=${4:-cmake}
CC=${5:-cc}
CXX=${6:-c++}
SONAME=${7:-libbraid.so.0.1}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

failures=0
fail() {
    failures=$((failures + 1))
    echo "FAIL: $*"
}
pass() { echo "PASS: $*"; }
show() { # show the tail of a log file, indented
    sed -e 's/^/    | /' "$1" | tail -n 40
}

rm -rf "$scratch"
mkdir -p "$scratch"
prefix=$scratch/prefix

# ---- install ------------------------------------------------------------------
echo "== $CMAKE --install $build --prefix $prefix"
if ! "$CMAKE" --install "$build" --prefix "$prefix" >"$scratch/install.log" 2>&1; then
    show "$scratch/install.log"
    fail "cmake --install"
    exit 1
fi
sed -e 's/^/    /' "$scratch/install.log"

# ---- the installed headers keep the conventions (tests/abi/lint_headers.py) -------
if command -v python3 >/dev/null 2>&1; then
    if python3 "$(dirname "$0")/lint_headers.py" "$prefix/include" >"$scratch/lint.log" 2>&1; then
        pass "the installed headers keep the conventions of docs/c-api.md"
    else
        show "$scratch/lint.log"
        fail "the installed headers break the conventions of docs/c-api.md"
    fi
fi

so=$(find "$prefix" -name "$SONAME" | head -n 1)
if [ -z "$so" ]; then
    fail "$SONAME is not installed under $prefix"
    exit 1
fi
libdir=$(dirname "$so")
echo "== installed library dir: $libdir"
for f in "$libdir/libbraid.so" "$prefix/include/braid/braid.h" "$prefix/include/braid/braid.hpp" \
         "$prefix/include/braid/export.h" "$prefix/include/braid/detail" \
         "$prefix/include/braid/unstable/waiter.h" "$prefix/include/braid/unstable/alloc.h" \
         "$prefix/include/braid/unstable/coop.h"; do
    if [ -e "$f" ]; then pass "installed: ${f#$prefix/}"; else fail "not installed: ${f#$prefix/}"; fi
done
# The waiter protocol moved to the unstable tier: no stale stable header.
if [ -e "$prefix/include/braid/waiter.h" ]; then
    fail "installed: include/braid/waiter.h (the waiter protocol is include/braid/unstable/waiter.h)"
fi

pc=$(find "$prefix" -name braid.pc | head -n 1)
cfg=$(find "$prefix" -name braidConfig.cmake | head -n 1)
[ -n "$pc" ] && pass "installed: ${pc#$prefix/}" || fail "braid.pc is not installed under $prefix"
[ -n "$cfg" ] && pass "installed: ${cfg#$prefix/}" || fail "braidConfig.cmake is not installed under $prefix"
for f in braidConfigVersion.cmake braidTargets.cmake; do
    if [ -n "$cfg" ] && [ -e "$(dirname "$cfg")/$f" ]; then pass "installed: $f"; else fail "not installed: $f"; fi
done

version=$(sed -n 's/^#define BRAID_VERSION_STRING "\(.*\)"/\1/p' "$prefix/include/braid/export.h")
echo "== header version: $version"
# The compatible series (docs/c-api.md, "ABI stability"): 0.MINOR before 1.0,
# MAJOR after; the series after it, and (0.x) the one before it.
v_major=${version%%.*}
v_rest=${version#*.}
v_minor=${v_rest%%.*}
if [ "$v_major" -eq 0 ]; then
    series=0.$v_minor
    next_series=0.$((v_minor + 1))
    prev_series=""
    [ "$v_minor" -gt 0 ] && prev_series=0.$((v_minor - 1))
    want_soname=libbraid.so.0.$v_minor
else
    series=$v_major
    next_series=$((v_major + 1)).0
    prev_series=""
    want_soname=libbraid.so.$v_major
fi
if [ "$SONAME" = "$want_soname" ]; then
    pass "SONAME $SONAME is the one of series $series"
else
    fail "SONAME $SONAME, but version $version belongs to series $series: $want_soname"
fi

# Runs a consumer binary with the installed library and checks what it prints
# and which libbraid it loaded.
run_consumer() { # name binary expected-output-prefix
    name=$1
    bin=$2
    want=$3
    if [ ! -x "$bin" ]; then
        fail "$name: not built"
        return
    fi
    loaded=$(LD_LIBRARY_PATH="$libdir" ldd "$bin" 2>/dev/null | sed -n "s|.*$SONAME => \([^ ]*\).*|\1|p")
    case "$loaded" in
        "$libdir"/*) ;;
        *) fail "$name: loads $SONAME from '$loaded', not from $libdir" ;;
    esac
    out=$(LD_LIBRARY_PATH="$libdir" timeout 60 "$bin" 2>&1)
    rc=$?
    echo "$out" | sed -e 's/^/    | /'
    case "$out" in
        "$want"*) [ $rc -eq 0 ] && pass "$name: ran, printed '$want...'" || fail "$name: exit status $rc" ;;
        *) fail "$name: exit status $rc, output does not start with '$want'" ;;
    esac
}

# ---- pkg-config ------------------------------------------------------------------
if [ -n "$pc" ] && command -v "$PKG_CONFIG" >/dev/null 2>&1; then
    pcdir=$(dirname "$pc")
    echo "== pkg-config (PKG_CONFIG_PATH=$pcdir)"
    sed -e 's/^/    | /' "$pc"
    PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    export PKG_CONFIG_PATH
    pcver=$("$PKG_CONFIG" --modversion braid 2>"$scratch/pc.err")
    if [ $? -ne 0 ]; then
        show "$scratch/pc.err"
        fail "pkg-config --modversion braid"
    elif [ "$pcver" != "$version" ]; then
        fail "pkg-config --modversion braid is '$pcver', the headers say '$version'"
    else
        pass "pkg-config --modversion braid = $pcver"
    fi
    # The documented way to ask for a series: at least this release, below the next series.
    if "$PKG_CONFIG" --exists "braid >= $version braid < $next_series"; then
        pass "pkg-config --exists 'braid >= $version braid < $next_series'"
    else
        fail "pkg-config --exists 'braid >= $version braid < $next_series' is false for braid $version"
    fi
    if "$PKG_CONFIG" --exists "braid >= $next_series"; then
        fail "pkg-config --exists 'braid >= $next_series' is true for braid $version"
    else
        pass "pkg-config --exists 'braid >= $next_series' is false"
    fi
    pcprefix=$("$PKG_CONFIG" --variable=prefix braid 2>/dev/null)
    pcinc=$("$PKG_CONFIG" --variable=includedir braid 2>/dev/null)
    pclib=$("$PKG_CONFIG" --variable=libdir braid 2>/dev/null)
    define_prefix=""
    # ${pcfiledir}-relative prefixes are fine: compare the directories, not the strings
    real_prefix=$(cd "$prefix" && pwd -P)
    real_pcprefix=$(cd "$pcprefix" 2>/dev/null && pwd -P)
    echo "    prefix=$pcprefix includedir=$pcinc libdir=$pclib"
    if [ "$real_pcprefix" != "$real_prefix" ] || [ ! -e "$pcinc/braid/braid.h" ] || [ ! -e "$pclib/libbraid.so" ]; then
        fail "braid.pc is not relocatable: after 'cmake --install --prefix $prefix' it says prefix=$pcprefix" \
             "(includedir=$pcinc, libdir=$pclib), so consumers get the configure-time prefix, not the install prefix"
        # Go on with the prefix pkg-config derives from the .pc's location, to
        # check everything else in the file.
        if "$PKG_CONFIG" --define-prefix --cflags braid >/dev/null 2>&1; then
            define_prefix=--define-prefix
            echo "    (continuing with pkg-config --define-prefix: $("$PKG_CONFIG" --define-prefix --variable=prefix braid))"
        fi
    else
        pass "braid.pc prefix/includedir/libdir point into the install prefix"
    fi
    cflags=$("$PKG_CONFIG" $define_prefix --cflags braid 2>"$scratch/pc.err") || { show "$scratch/pc.err"; fail "pkg-config --cflags braid"; }
    libs=$("$PKG_CONFIG" $define_prefix --libs braid 2>"$scratch/pc.err") || { show "$scratch/pc.err"; fail "pkg-config --libs braid"; }
    echo "    cflags: $cflags"
    echo "    libs:   $libs"

    # (a) C
    # shellcheck disable=SC2086
    if "$CC" -std=c11 -Wall -Wextra -Werror "$src/consumer.c" -o "$scratch/c_pkgconfig" $cflags $libs \
        >"$scratch/c_pkgconfig.log" 2>&1; then
        pass "(a) C consumer builds through pkg-config"
        run_consumer "(a) C consumer (pkg-config)" "$scratch/c_pkgconfig" "braid-c-consumer ok $version"
    else
        show "$scratch/c_pkgconfig.log"
        fail "(a) C consumer does not build through pkg-config: $CC -std=c11 consumer.c $cflags $libs"
    fi
    # (b) C++20
    # shellcheck disable=SC2086
    if "$CXX" -std=c++20 -Wall -Wextra -Werror "$src/consumer.cpp" -o "$scratch/cxx_pkgconfig" $cflags $libs \
        >"$scratch/cxx_pkgconfig.log" 2>&1; then
        pass "(b) C++ consumer builds through pkg-config"
        run_consumer "(b) C++ consumer (pkg-config)" "$scratch/cxx_pkgconfig" "braid-cxx-consumer ok 42"
    else
        show "$scratch/cxx_pkgconfig.log"
        fail "(b) C++ consumer does not build through pkg-config: $CXX -std=c++20 consumer.cpp $cflags $libs"
    fi
else
    fail "pkg-config ($PKG_CONFIG) or braid.pc missing: (a) and (b) not run"
fi

# ---- CMake package -------------------------------------------------------------------
generator=""
command -v ninja >/dev/null 2>&1 && generator="-GNinja"
cmake_consumer() { # name source-dir build-dir
    name=$1
    csrc=$2
    cbuild=$3
    # shellcheck disable=SC2086
    if ! "$CMAKE" -S "$csrc" -B "$cbuild" $generator \
        -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
        -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
        -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
        -DCMAKE_BUILD_TYPE=Release >"$cbuild.configure.log" 2>&1; then
        show "$cbuild.configure.log"
        fail "$name: find_package(braid) project does not configure"
        return 1
    fi
    bdir=$(sed -n 's/^braid_DIR:PATH=//p' "$cbuild/CMakeCache.txt")
    case "$bdir" in
        "$prefix"/*) pass "$name: find_package(braid) found $bdir" ;;
        *) fail "$name: find_package(braid) found '$bdir', not the package under $prefix" ;;
    esac
    if ! "$CMAKE" --build "$cbuild" >"$cbuild.build.log" 2>&1; then
        show "$cbuild.build.log"
        fail "$name: does not build against braid::braid"
        return 1
    fi
    pass "$name: builds against braid::braid"
    return 0
}

if [ -n "$cfg" ]; then
    echo "== find_package(braid) with CMAKE_PREFIX_PATH=$prefix"
    # (c) C and C++ in one project
    if cmake_consumer "(c) CMake consumer" "$src" "$scratch/cmake_consumer"; then
        run_consumer "(c) C consumer (find_package)" "$scratch/cmake_consumer/consumer_c" "braid-c-consumer ok $version"
        run_consumer "(c) C++ consumer (find_package)" "$scratch/cmake_consumer/consumer_cxx" "braid-cxx-consumer ok 42"
    fi
    # (d) a C-only project
    if cmake_consumer "(d) C-only CMake consumer" "$src/c_only" "$scratch/cmake_c_only"; then
        run_consumer "(d) C consumer (find_package, C-only project)" "$scratch/cmake_c_only/consumer_c_only" \
            "braid-c-consumer ok $version"
    fi
else
    fail "braidConfig.cmake missing: (c) and (d) not run"
fi

# ---- (e) find_package(braid X.Y): only the installed series is compatible ------------------
probe_find_package() { # requested-version expect(found|not-found)
    want=$1
    expect=$2
    pdir=$scratch/version_probe_$want
    mkdir -p "$pdir/src"
    cat >"$pdir/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(braid_version_probe LANGUAGES C)
find_package(braid ${WANT} QUIET)
if(braid_FOUND)
  message(STATUS "braid-probe: found ${braid_VERSION}")
else()
  message(STATUS "braid-probe: not-found")
endif()
EOF
    # shellcheck disable=SC2086
    "$CMAKE" -S "$pdir/src" -B "$pdir/build" $generator -DWANT="$want" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
        -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF -DCMAKE_C_COMPILER="$CC" \
        >"$pdir.log" 2>&1
    got=$(sed -n 's/.*braid-probe: \(found\|not-found\).*/\1/p' "$pdir.log" | tail -n 1)
    if [ "$got" = "$expect" ]; then
        pass "(e) find_package(braid $want): $got (braid $version)"
    else
        show "$pdir.log"
        fail "(e) find_package(braid $want) with braid $version installed: '$got', expected $expect"
    fi
}
if [ -n "$cfg" ]; then
    echo "== find_package(braid X.Y) against braid $version (series $series)"
    probe_find_package "$series" found
    probe_find_package "$version" found
    probe_find_package "$next_series" not-found
    [ -n "$prev_series" ] && probe_find_package "$prev_series" not-found
fi

echo
if [ $failures -ne 0 ]; then
    echo "abi.install_consumers: $failures failure(s)"
    exit 1
fi
echo "abi.install_consumers: all passed"
exit 0
