/* A C function for the Python tests to run as a braid task.  The tests
 * build it into one library with the example's feeder
 * (bindings/python/examples/feeder.c: a C thread that feeds a channel). */
#include <stdint.h>

struct square_job {
    int64_t in;
    int64_t out;
};

/* A braid_task_fn: out = in * in. */
void square(void *arg) {
    struct square_job *j = arg;
    j->out = j->in * j->in;
}

#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

/* A braid_task_fn: stores the id of the thread that ran it (a Linux tid,
 * as Python's threading.get_native_id()). */
void record_thread(void *arg) {
    *(int64_t *)arg = (int64_t)syscall(SYS_gettid);
}
