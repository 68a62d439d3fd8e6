# Compiles every public C header of braid as strict C (-std=${STD} -Wall
# -Wextra -pedantic -Werror): each header alone, each header twice (include
# guards), and <braid/braid.h> with a use of every macro and type it defines.
# The unstable tier (braid/unstable/*.h) is compiled the same way with
# BRAID_UNSTABLE_API defined, and checked to be out of reach otherwise: each of
# its headers refuses to compile without the macro, and no stable header
# (braid.h included) pulls one in.
# Run with: cmake -DCC=<c compiler> -DSTD=c99|c11 -DINCLUDE_DIR=<include>
#                 -DWORK_DIR=<scratch> -P check_headers.cmake
cmake_minimum_required(VERSION 3.20)

foreach(v CC STD INCLUDE_DIR WORK_DIR)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "check_headers.cmake: -D${v}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

file(GLOB_RECURSE headers RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/braid/*.h")
list(SORT headers)
if(NOT headers)
  message(FATAL_ERROR "no public C headers found under ${INCLUDE_DIR}/braid")
endif()
if(NOT "braid/braid.h" IN_LIST headers)
  message(FATAL_ERROR "braid/braid.h is missing under ${INCLUDE_DIR}")
endif()

set(flags -std=${STD} -Wall -Wextra -pedantic -Werror -I${INCLUDE_DIR})
set(failures 0)

# try_compile_c(name source [extra flags...])
function(try_compile_c name source)
  set(src "${WORK_DIR}/${name}.c")
  file(WRITE "${src}" "${source}")
  execute_process(
    COMMAND "${CC}" ${flags} ${ARGN} -c "${src}" -o "${WORK_DIR}/${name}.o"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN flags " " cmdline)
    message(SEND_ERROR "FAILED (${STD}): ${name}\n--- source ${src}\n${source}\n--- ${CC} ${cmdline} ${ARGN} -c ${src}\n${out}${err}")
    math(EXPR n "${failures} + 1")
    set(failures ${n} PARENT_SCOPE)
  else()
    message(STATUS "ok (${STD}): ${name}")
  endif()
endfunction()

# A failure that must happen: the source must not compile, and the compiler
# must say `expect` (a regex).
function(expect_compile_error name source expect)
  set(src "${WORK_DIR}/${name}.c")
  file(WRITE "${src}" "${source}")
  execute_process(
    COMMAND "${CC}" ${flags} -c "${src}" -o "${WORK_DIR}/${name}.o"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT "${out}${err}" MATCHES "${expect}")
    message(SEND_ERROR "FAILED (${STD}): ${name}: expected a compile error matching '${expect}' (exit status ${rc})\n--- source ${src}\n${source}\n${out}${err}")
    math(EXPR n "${failures} + 1")
    set(failures ${n} PARENT_SCOPE)
  else()
    message(STATUS "ok (${STD}): ${name} (refused as it should be)")
  endif()
endfunction()

# The headers a translation unit that includes `h` reads (preprocessor line
# markers) that lie under braid/unstable/.
function(unstable_headers_reached h out_var)
  set(src "${WORK_DIR}/reach.c")
  file(WRITE "${src}" "#include <${h}>\n")
  execute_process(
    COMMAND "${CC}" ${flags} -E "${src}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    set(${out_var} "(preprocessing failed: ${err})" PARENT_SCOPE)
    return()
  endif()
  string(REGEX MATCHALL "\"[^\"]*/braid/unstable/[^\"/]+\"" marks "${out}")
  list(REMOVE_DUPLICATES marks)
  list(JOIN marks " " marks)
  set(${out_var} "${marks}" PARENT_SCOPE)
endfunction()

set(unstable_flag -DBRAID_UNSTABLE_API)

# Each header on its own, first thing in the translation unit, then twice.
foreach(h IN LISTS headers)
  string(MAKE_C_IDENTIFIER "${h}" id)
  set(extra "")
  if(h MATCHES "^braid/unstable/")
    set(extra ${unstable_flag})
    expect_compile_error("gated_${id}" "#include <${h}>\nint braid_abi_dummy_(void);\nint braid_abi_dummy_(void) { return 0; }\n"
      "BRAID_UNSTABLE_API")
  else()
    unstable_headers_reached("${h}" reached)
    if(reached)
      message(SEND_ERROR "FAILED (${STD}): the stable header <${h}> includes the unstable tier: ${reached}")
      math(EXPR failures "${failures} + 1")
    endif()
  endif()
  try_compile_c("alone_${id}" "#include <${h}>\nint braid_abi_dummy_(void);\nint braid_abi_dummy_(void) { return 0; }\n" ${extra})
  try_compile_c("twice_${id}" "#include <${h}>\n#include <${h}>\nint braid_abi_dummy_(void);\nint braid_abi_dummy_(void) { return 0; }\n" ${extra})
endforeach()

# Every header, in reverse order, after the umbrella (unstable ones included).
set(all "#include <braid/braid.h>\n")
set(rev ${headers})
list(REVERSE rev)
foreach(h IN LISTS rev)
  string(APPEND all "#include <${h}>\n")
endforeach()
string(APPEND all "int braid_abi_dummy_(void);\nint braid_abi_dummy_(void) { return 0; }\n")
try_compile_c("all_headers" "${all}" ${unstable_flag})

# The umbrella header with a use of the declarations (function pointer types,
# the X-macro table, the version macros, the enums).
try_compile_c("umbrella_use" [=[
#include <braid/braid.h>
#include <stddef.h>

#if !defined(BRAID_VERSION_MAJOR) || !defined(BRAID_VERSION_MINOR) || !defined(BRAID_VERSION_PATCH)
#error "version macros missing"
#endif
#if BRAID_VERSION_NUMBER != (BRAID_VERSION_MAJOR * 10000 + BRAID_VERSION_MINOR * 100 + BRAID_VERSION_PATCH)
#error "BRAID_VERSION_NUMBER is inconsistent"
#endif

#define NAME_OF_(name, value, text) #name,
static const char *const names[] = { BRAID_ERROR_TABLE(NAME_OF_) NULL };
#define TEXT_OF_(name, value, text) text,
static const char *const texts[] = { BRAID_ERROR_TABLE(TEXT_OF_) NULL };

static void on_done(void *user_data, int status) { (void)user_data; (void)status; }
static void body(void *arg) { (void)arg; }
static int poll_fn(void *state, braid_task *task) { (void)state; (void)task; return BRAID_PENDING; }

int braid_abi_use_(void);
int braid_abi_use_(void) {
    braid_callback cb = on_done;
    braid_task_fn fn = body;
    braid_poll_fn pf = poll_fn;
    braid_wake_fn wf = braid_task_wake_fn;
    braid_thread_fn tf = body;
    enum braid_error e = BRAID_EINVAL;
    enum braid_interest i = BRAID_READABLE;
    enum braid_missed_tick m = BRAID_MISSED_TICK_SKIP;
    const char *(*strerror_fn)(int) = braid_strerror;
    int (*spawn_fn)(braid_task **, braid_runtime *, braid_task_fn, void *) = braid_spawn;
    int (*sleep_fn)(braid_task **, braid_runtime *, int64_t, braid_callback, void *) = braid_sleep;
    int (*fd_fn)(braid_task **, braid_runtime *, int, int, braid_fd_ready_callback, void *) = braid_fd_wait;
    (void)cb; (void)fn; (void)pf; (void)wf; (void)tf; (void)strerror_fn;
    (void)spawn_fn; (void)sleep_fn; (void)fd_fn;
    return (int)e + (int)i + (int)m + BRAID_PENDING + (names[0] != NULL) + (texts[0] != NULL)
           + (int)sizeof(BRAID_VERSION_STRING);
}
]=])

# The unstable tier with a use of its declarations.
try_compile_c("unstable_use" [=[
#include <braid/braid.h>
#include <braid/unstable/alloc.h>
#include <braid/unstable/coop.h>
#include <braid/unstable/task_block.h>
#include <braid/unstable/waiter.h>
#include <stddef.h>

int braid_abi_unstable_use_(void);
int braid_abi_unstable_use_(void) {
    braid_waiter *w = NULL;
    int (*lock)(braid_mutex *, braid_waiter **, braid_wake_fn, void *) = braid_mutex_poll_lock;
    void (*unlock_wait)(braid_mutex *, braid_waiter **) = braid_mutex_cancel_lock;
    int (*send)(braid_mpsc_tx *, void *, size_t, braid_waiter **, braid_wake_fn, void *) = braid_mpsc_poll_send;
    void *(*alloc_fn)(size_t) = braid_alloc;
    void (*free_fn)(void *, size_t) = braid_free;
    int (*coop)(void) = braid_coop_take;
    int (*new_in)(braid_task **, braid_runtime *, void *, size_t, const braid_task_vtable *) = braid_task_new_in;
    (void)lock; (void)unlock_wait; (void)send; (void)alloc_fn; (void)free_fn; (void)new_in;
    return (w == NULL) + (coop != NULL);
}
]=] ${unstable_flag})

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} header check(s) failed as -std=${STD}")
endif()
list(LENGTH headers nh)
message(STATUS "all ${nh} public C headers compile as -std=${STD} -Wall -Wextra -pedantic -Werror")
