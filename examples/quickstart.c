/* The README's C quick start: a runtime, a task, a timer callback. */
#include <braid/braid.h>

#include <stdio.h>

static void work(void *arg) { *(int *)arg = 42; }

static void on_timer(void *user_data, int status) {
    printf("timer fired: %s\n", braid_err_name(status));
    *(int *)user_data = 1;
}

int main(void) {
    braid_runtime_builder *b = NULL;
    braid_runtime *rt = NULL;
    int rc = braid_runtime_builder_new(&b);
    if (rc == 0) rc = braid_runtime_builder_worker_threads(b, 2);
    if (rc == 0) rc = braid_runtime_build(&rt, b);
    braid_runtime_builder_free(b);
    if (rc < 0) {
        fprintf(stderr, "braid: %s\n", braid_strerror(rc));
        return 1;
    }

    int answer = 0, fired = 0;
    braid_task *task = NULL, *sleep = NULL;
    braid_spawn(&task, rt, work, &answer);          /* work(&answer) on a worker */
    braid_sleep(&sleep, rt, 10, on_timer, &fired);   /* on_timer after 10 ms, on a worker */
    braid_task_join_blocking(task, BRAID_WAIT_FOREVER); /* from this (non-runtime) thread */
    braid_task_join_blocking(sleep, BRAID_WAIT_FOREVER);
    braid_task_free(task);
    braid_task_free(sleep);

    printf("answer %d, timer %d, braid %s\n", answer, fired, braid_version());
    braid_runtime_free(rt);                          /* shuts down: cancels, joins, frees */
    return answer == 42 && fired == 1 ? 0 : 1;
}
