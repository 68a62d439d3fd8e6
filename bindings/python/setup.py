"""The package's one compiled part, braid._speedups (braid/_speedups.c), is
optional: without a C compiler or Python's headers (Debian: python3-dev)
`pip install` leaves it out and the package runs the same code in Python.
Everything else is declared in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("braid._speedups", ["braid/_speedups.c"], optional=True,
                             extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"])])
