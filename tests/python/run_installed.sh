#!/bin/sh
# ffi.python_installed: the Python package as a user gets it.  Installs the
# build tree into a scratch prefix, makes a virtual environment (with the
# system's site packages: pytest, setuptools), `pip install`s
# bindings/python into it offline, and runs the pytest suite of tests/python
# with that interpreter, from outside the source tree, with no BRAID_LIB:
# the package finds the installed libbraid through pkg-config.  Where
# Python's headers are there, pip must have built the package's C dispatch
# (braid._speedups), and the suite runs with it.
#
# usage: run_installed.sh <build-dir> <source-dir> <scratch-dir> [cmake] [python3]
set -eu
build=$1
src=$(cd "$2" && pwd)
scratch=$3
CMAKE=${4:-cmake}
PYTHON=${5:-/usr/bin/python3}

rm -rf "$scratch"
mkdir -p "$scratch"
prefix=$scratch/prefix
"$CMAKE" --install "$build" --prefix "$prefix" >"$scratch/install.log" 2>&1 || { cat "$scratch/install.log"; exit 1; }
pc=$(find "$prefix" -name braid.pc | head -n 1)
[ -n "$pc" ] || { echo "no braid.pc under $prefix"; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
unset BRAID_LIB PYTHONPATH BRAID_SPEEDUPS || true

"$PYTHON" -m venv --system-site-packages "$scratch/venv"
# a copy of the package: pip builds in place, and the source tree stays clean
cp -r "$src/bindings/python" "$scratch/pkg"
"$scratch/venv/bin/python" -m pip install --no-index --no-build-isolation --no-cache-dir --quiet "$scratch/pkg"

cd "$scratch"
"$scratch/venv/bin/python" - <<'PY'
import braid, os
lib = braid.load()
print("braid", braid.__version__, "loaded", lib._name, "version", braid.version())
assert os.path.realpath(lib._name).startswith(os.path.realpath(os.environ["PKG_CONFIG_PATH"]).rsplit("/pkgconfig", 1)[0]), lib._name
assert os.path.isfile(os.path.join(os.path.dirname(braid.__file__), "py.typed"))
assert "site-packages" in braid.__file__, braid.__file__
import sysconfig
from braid import _aio
if os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")):
    assert _aio._speedups is not None, "pip did not build braid._speedups"
if _aio._speedups is not None:
    print("braid._speedups:", _aio._speedups.__file__)
    for bad in ((0, 1, 1, 1, {}, braid.error, print, 1, 1), (1, 1, 1, 1, {}, braid.error, print, 0, 1),
                (1, 1, 1, None, {}, braid.error, print, 1, 1)):
        try:
            _aio._speedups.Pump(*bad)
        except ValueError:
            pass
        else:
            raise AssertionError(f"Pump{bad} accepted")
PY
PYTHONDONTWRITEBYTECODE=1 exec "$scratch/venv/bin/python" -m pytest -q -p no:cacheprovider "$src/tests/python"
