/* A C program built against an INSTALLED braid (pkg-config or find_package).
 * Builds a runtime, spawns a task, sleeps through a callback, joins, frees. */
#include <braid/braid.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_int task_ran;
static atomic_int sleep_calls;
static atomic_int sleep_status = 12345;
static atomic_int sleep_on_runtime;
static braid_runtime *the_rt;

static void task_body(void *arg) {
    atomic_store(&task_ran, *(int *)arg);
}

static void on_sleep(void *user_data, int status) {
    (void)user_data;
    atomic_store(&sleep_status, status);
    atomic_store(&sleep_on_runtime, braid_runtime_current() == the_rt);
    atomic_fetch_add(&sleep_calls, 1);
}

#define REQUIRE(cond)                                                    \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "consumer.c:%d: check failed: %s\n", __LINE__, #cond); \
            return 1;                                                    \
        }                                                                \
    } while (0)

int main(void) {
    REQUIRE(strcmp(braid_version(), BRAID_VERSION_STRING) == 0);
    REQUIRE(braid_version_number() == BRAID_VERSION_NUMBER);

    braid_runtime_builder *b = NULL;
    REQUIRE(braid_runtime_builder_new(&b) == BRAID_OK);
    REQUIRE(braid_runtime_builder_worker_threads(b, 2) == BRAID_OK);
    REQUIRE(braid_runtime_build(&the_rt, b) == BRAID_OK);
    braid_runtime_builder_free(b);

    int value = 42;
    braid_task *task = NULL;
    REQUIRE(braid_spawn(&task, the_rt, task_body, &value) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(task, 10000) == BRAID_OK);
    REQUIRE(atomic_load(&task_ran) == 42);
    braid_task_free(task);

    braid_task *sleep = NULL;
    int64_t t0 = braid_now(the_rt);
    REQUIRE(braid_sleep(&sleep, the_rt, 2, on_sleep, NULL) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(sleep, 10000) == BRAID_OK);
    REQUIRE(braid_now(the_rt) - t0 >= 2000000);
    REQUIRE(atomic_load(&sleep_calls) == 1);
    REQUIRE(atomic_load(&sleep_status) == BRAID_OK);
    REQUIRE(atomic_load(&sleep_on_runtime) == 1);
    braid_task_free(sleep);

    REQUIRE(braid_runtime_free(the_rt) == BRAID_OK);
    printf("braid-c-consumer ok %s\n", braid_version());
    return 0;
}
