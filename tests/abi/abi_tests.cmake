# ABI, packaging and FFI tests of braid.
#
# Include from tests/CMakeLists.txt (after enable_testing(), with the `braid`
# target defined):
#     include(${CMAKE_CURRENT_SOURCE_DIR}/abi/abi_tests.cmake)
#
# Tests registered:
#   abi.headers_c99, abi.headers_c11  every public C header compiles alone and
#                                     through <braid/braid.h> as strict C
#   abi.exports                       readelf --dyn-syms shows only braid_* and
#                                     every BRAID_API declaration, each with its
#                                     version node (BRAID_0.1, unstable tier:
#                                     BRAID_UNSTABLE_0.1); SONAME libbraid.so.0.1
#   abi.lint_headers                  the conventions of docs/c-api.md on the
#                                     public headers (names, out-parameters,
#                                     BRAID_API, BRAID_WAIT_FOREVER, NULL waker)
#   abi.lint_headers_fails            the lint fails on a header that breaks them
#   abi.bad_input                     NULL handles, negative durations, error
#                                     names, shutdown, EDEADLK, callback contract
#   abi.bad_input_memcheck            the same under valgrind (if installed):
#                                     fails on memory errors only
#   abi.install_consumers             cmake --install into a scratch prefix;
#                                     C and C++ consumers through pkg-config and
#                                     find_package(braid)
#   abi.baseline                      abidiff against tests/abi/libbraid.abi:
#                                     additions pass, removals and changed
#                                     signatures fail (if abigail-tools is
#                                     installed and the build has debug info)
#   ffi.python                        tests/python (pytest) against this build
#   ffi.python_installed              pip install bindings/python in a venv against
#                                     an installed copy; the same pytest suite
#
# Nothing is written into the source tree: scratch goes to
# ${CMAKE_CURRENT_BINARY_DIR}/abi.

# Under BRAID_SANITIZE the library is instrumented: abi.headers_*, abi.exports
# and abi.bad_input still run (bad_input is built with the same sanitizer, so
# it reports the library's memory and thread errors too), but programs that
# load libbraid from outside this build (installed consumers, python3,
# valgrind) cannot, so those tests are not registered.
set(BRAID_ABI_DIR ${CMAKE_CURRENT_LIST_DIR})
get_filename_component(BRAID_ABI_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(BRAID_ABI_SCRATCH ${CMAKE_CURRENT_BINARY_DIR}/abi)
file(MAKE_DIRECTORY ${BRAID_ABI_SCRATCH})

# ---- 1. the public C headers as strict C99 / C11 -------------------------------
foreach(std c99 c11)
  add_test(NAME abi.headers_${std}
    COMMAND ${CMAKE_COMMAND}
      -DCC=${CMAKE_C_COMPILER}
      -DSTD=${std}
      -DINCLUDE_DIR=${BRAID_ABI_SOURCE_ROOT}/include
      -DWORK_DIR=${BRAID_ABI_SCRATCH}/headers_${std}
      -P ${BRAID_ABI_DIR}/check_headers.cmake)
  set_tests_properties(abi.headers_${std} PROPERTIES LABELS "abi" TIMEOUT 120)
endforeach()

# ---- 2. exported symbols and SONAME ----------------------------------------------
# The toolchain's binutils when CMake found them (cross builds), else the host's.
foreach(tool READELF OBJDUMP)
  string(TOLOWER ${tool} exe)
  if(CMAKE_${tool})
    set(BRAID_ABI_${tool} ${CMAKE_${tool}})
  else()
    find_program(BRAID_ABI_${tool} NAMES ${exe})
  endif()
endforeach()
add_test(NAME abi.exports
  COMMAND ${CMAKE_COMMAND}
    -DLIB=$<TARGET_FILE:braid>
    -DREADELF=${BRAID_ABI_READELF}
    -DOBJDUMP=${BRAID_ABI_OBJDUMP}
    -DEXPECTED_SONAME=libbraid.so.${BRAID_SOVERSION}
    -DINCLUDE_DIR=${BRAID_ABI_SOURCE_ROOT}/include
    -DMAP=${BRAID_ABI_SOURCE_ROOT}/cmake/braid.map
    -P ${BRAID_ABI_DIR}/check_exports.cmake)
set_tests_properties(abi.exports PROPERTIES LABELS "abi" TIMEOUT 60)

# ---- 2b. the conventions of the headers (tests/abi/lint_headers.py) -------------------
find_program(BRAID_ABI_LINT_PYTHON3 NAMES python3)
if(BRAID_ABI_LINT_PYTHON3)
  add_test(NAME abi.lint_headers
    COMMAND ${BRAID_ABI_LINT_PYTHON3} ${BRAID_ABI_DIR}/lint_headers.py ${BRAID_ABI_SOURCE_ROOT}/include)
  add_test(NAME abi.lint_headers_fails
    COMMAND ${CMAKE_COMMAND} -E env PYTHONDONTWRITEBYTECODE=1
      ${BRAID_ABI_LINT_PYTHON3} ${BRAID_ABI_DIR}/lint_headers_test.py)
  set_tests_properties(abi.lint_headers abi.lint_headers_fails PROPERTIES LABELS "abi" TIMEOUT 60)
else()
  message(STATUS "braid: python3 not found, abi.lint_headers is not registered")
endif()

# ---- 3. bad input and the C ABI rules ----------------------------------------------
add_executable(braid_abi_bad_input ${BRAID_ABI_DIR}/bad_input.c)
target_link_libraries(braid_abi_bad_input PRIVATE braid)
set_target_properties(braid_abi_bad_input PROPERTIES
  C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
target_compile_definitions(braid_abi_bad_input PRIVATE _POSIX_C_SOURCE=200809L)
target_compile_options(braid_abi_bad_input PRIVATE -Wall -Wextra)
find_package(Threads REQUIRED)
target_link_libraries(braid_abi_bad_input PRIVATE Threads::Threads)
add_test(NAME abi.bad_input COMMAND braid_abi_bad_input)
set_tests_properties(abi.bad_input PROPERTIES LABELS "abi" TIMEOUT 120)

# The same program under valgrind's memcheck, when valgrind is installed: this
# one fails only on memory errors (use after free, invalid reads, definite
# leaks), not on the functional checks, which abi.bad_input reports.
find_program(BRAID_ABI_VALGRIND NAMES valgrind)
if(BRAID_ABI_VALGRIND AND NOT BRAID_SANITIZE)
  add_test(NAME abi.bad_input_memcheck
    COMMAND sh ${BRAID_ABI_DIR}/memcheck.sh ${BRAID_ABI_VALGRIND} $<TARGET_FILE:braid_abi_bad_input>)
  set_tests_properties(abi.bad_input_memcheck PROPERTIES LABELS "abi;memcheck" TIMEOUT 600)
endif()

if(BRAID_SANITIZE)
  message(STATUS "braid: BRAID_SANITIZE=${BRAID_SANITIZE}: abi.install_consumers, abi.baseline, ffi.python, ffi.python_installed and abi.bad_input_memcheck are not registered")
  return()
endif()

# ---- 4. install + consumers (pkg-config and find_package) ------------------------
add_test(NAME abi.install_consumers
  COMMAND sh ${BRAID_ABI_DIR}/install_consumers.sh
    ${CMAKE_BINARY_DIR}
    ${BRAID_ABI_DIR}/consumer
    ${BRAID_ABI_SCRATCH}/install_consumers
    ${CMAKE_COMMAND}
    ${CMAKE_C_COMPILER}
    ${CMAKE_CXX_COMPILER}
    libbraid.so.${BRAID_SOVERSION})
set_tests_properties(abi.install_consumers PROPERTIES LABELS "abi;install" TIMEOUT 600)

# ---- 5. the ABI against the committed baseline (libabigail) ----------------------------
# tests/abi/libbraid.abi is the ABI of the stable C headers as abidw reads it
# from the library's debug info (x86-64 and other LP64 Linux; written by
# scripts/update-abi-baseline.sh).  Functions may be added; a removal or a
# changed signature fails.  Needs debug info (RelWithDebInfo, the default, or
# Debug) and abigail-tools.
find_program(BRAID_ABI_ABIDW NAMES abidw)
find_program(BRAID_ABI_ABIDIFF NAMES abidiff)
string(TOUPPER "${CMAKE_BUILD_TYPE}" _braid_abi_bt)
if(NOT BRAID_ABI_ABIDW OR NOT BRAID_ABI_ABIDIFF)
  message(STATUS "braid: abidw/abidiff not found (Debian: apt-get install abigail-tools), abi.baseline is not registered")
elseif(NOT "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${_braid_abi_bt}}" MATCHES "(^| )-g")
  message(STATUS "braid: the library is built without debug info (CMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}), abi.baseline is not registered")
elseif(NOT CMAKE_SIZEOF_VOID_P EQUAL 8)
  message(STATUS "braid: the ABI baseline is for LP64 targets, abi.baseline is not registered")
else()
  add_test(NAME abi.baseline
    COMMAND sh ${BRAID_ABI_DIR}/check_abi.sh
      $<TARGET_FILE:braid>
      ${BRAID_ABI_SOURCE_ROOT}/include
      ${BRAID_ABI_DIR}/libbraid.abi
      ${BRAID_ABI_DIR}/unstable.abignore
      ${BRAID_ABI_SCRATCH}/baseline
      ${BRAID_ABI_ABIDW}
      ${BRAID_ABI_ABIDIFF})
  set_tests_properties(abi.baseline PROPERTIES LABELS "abi" TIMEOUT 300)
endif()

# ---- 6. Python: the package bindings/python and its pytest suite ------------------
# ffi.python runs tests/python against this build (BRAID_LIB, the package
# from the source tree, with its completions dispatched in Python:
# BRAID_SPEEDUPS=0); ffi.python_installed pip-installs the package into a
# virtual environment against an installed copy of this build (found through
# pkg-config), which builds its C dispatch (braid._speedups) where Python's
# headers are there (Debian: python3-dev), and runs the same suite.  Both
# need pytest (Debian: python3-pytest); the second also venv and pip
# (python3-venv) and setuptools (python3-setuptools).
find_program(BRAID_PYTHON3_FOR_TESTS NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT BRAID_PYTHON3_FOR_TESTS)
  find_program(BRAID_PYTHON3_FOR_TESTS NAMES python3)
endif()
if(BRAID_PYTHON3_FOR_TESTS)
  add_test(NAME ffi.python
    COMMAND ${CMAKE_COMMAND} -E env
      BRAID_LIB=$<TARGET_FILE:braid> BRAID_SPEEDUPS=0
      "PYTHONPATH=${BRAID_ABI_SOURCE_ROOT}/bindings/python"
      PYTHONDONTWRITEBYTECODE=1
      ${BRAID_PYTHON3_FOR_TESTS} -m pytest -q -p no:cacheprovider ${BRAID_ABI_SOURCE_ROOT}/tests/python
    WORKING_DIRECTORY ${BRAID_ABI_SCRATCH})
  set_tests_properties(ffi.python PROPERTIES LABELS "ffi" TIMEOUT 300)
  add_test(NAME ffi.python_installed
    COMMAND sh ${BRAID_ABI_SOURCE_ROOT}/tests/python/run_installed.sh
      ${CMAKE_BINARY_DIR} ${BRAID_ABI_SOURCE_ROOT} ${BRAID_ABI_SCRATCH}/python_installed
      ${CMAKE_COMMAND} ${BRAID_PYTHON3_FOR_TESTS})
  set_tests_properties(ffi.python_installed PROPERTIES LABELS "ffi;install" TIMEOUT 600)
else()
  message(STATUS "braid: python3 not found, ffi.python and ffi.python_installed are not registered")
endif()
