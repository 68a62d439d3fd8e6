/* A TCP echo server in C, in callback style (libuv's): no task, no poll
 * function and no thread of its own; every step is a callback the runtime
 * calls on one of its workers.
 *
 *   listener:     braid_tcp_listener_accept_start, a repeating accept (libuv's
 *                 uv_listen): one callback per connection; at most
 *                 MAX_CONNECTIONS at once (a semaphore's permits), more are
 *                 closed at once
 *   connection:   braid_byte_stream_read_start, a repeating read (uv_read_start)
 *                 into one buffer: each chunk is copied out, reading pauses
 *                 (read_stop) while write_all sends it back, and starts again
 *                 once both the write and the paused read have finished; until
 *                 the peer closes; then the permit goes back
 *
 * Running out of file descriptors (BRAID_EMFILE) or memory does not end the
 * server: the accept callback stops the accept, backs off 100 ms
 * (braid_sleep) and starts it again.  Ctrl-C (or SIGTERM) stops it; freeing
 * the runtime completes every pending operation with BRAID_ECANCELED, and
 * each callback frees what it owns.
 *
 *   ./build/examples/echo_server_c                 # listens on 127.0.0.1:8080
 *   ./build/examples/echo_server_c [::1]:9000      # any IPv4/IPv6 address:port
 *   ./build/examples/echo_server_c 127.0.0.1:0 --self-test
 *       # a client in the same process, also in callback style: connects,
 *       # sends a line, reads it back and waits for the server to close;
 *       # exits 0 when the echo was right
 *
 * Then, from another terminal:  nc 127.0.0.1 8080   (type a line: it comes back)
 */
#include <braid/braid.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_CONNECTIONS 256
#define BUF_SIZE (16 * 1024)

typedef struct server {
    braid_runtime *rt;
    braid_tcp_listener *listener;
    braid_semaphore *slots; /* a permit per open connection */
    atomic_int backing_off; /* the accept was stopped after a failure: start it again soon */
    atomic_ullong bytes;
    atomic_int open;
} server;

typedef struct connection {
    server *srv;
    braid_tcp_stream *stream;
    braid_byte_stream *bs;
    atomic_int paused;  /* reading was stopped while a chunk is written back */
    atomic_int pending; /* while paused: the write and the read still to finish */
    atomic_int failed;  /* the write failed: end once both have finished */
    char in[BUF_SIZE];  /* the repeating read's buffer */
    char out[BUF_SIZE]; /* the chunk being written back */
} connection;

/* ---- one connection: a repeating read, paused while a chunk is echoed ----------- */

static void on_chunk(void *user_data, int status, const void *data, size_t n);

static void conn_end(connection *c) {
    server *srv = c->srv;
    braid_tcp_stream_free(c->stream); /* allowed inside its own callbacks */
    free(c);
    atomic_fetch_sub(&srv->open, 1);
    braid_semaphore_release(srv->slots, 1); /* room for the next connection */
}

static void conn_read(connection *c) {
    if (braid_byte_stream_read_start(NULL, c->bs, c->in, sizeof c->in, on_chunk, c) != BRAID_OK) conn_end(c);
}

/* One of the two things a pause waits for has finished (the write-back, or
 * the stopped read's final callback); the second one goes on. */
static void pause_step(connection *c) {
    if (atomic_fetch_sub(&c->pending, 1) != 1) return;
    atomic_store(&c->paused, 0);
    if (atomic_load(&c->failed)) conn_end(c);
    else conn_read(c);
}

static void on_written(void *user_data, int status, size_t n) {
    connection *c = user_data;
    if (status == BRAID_OK) atomic_fetch_add(&c->srv->bytes, n);
    else atomic_store(&c->failed, 1); /* the peer left (BRAID_EPIPE), or shutdown */
    pause_step(c);
}

static void on_chunk(void *user_data, int status, const void *data, size_t n) {
    connection *c = user_data;
    if (status == BRAID_OK) {
        /* The buffer is the read's again when this returns: copy the chunk
         * out, and pause reading until it has been written back. */
        memcpy(c->out, data, n);
        atomic_store(&c->failed, 0);
        atomic_store(&c->pending, 2);
        atomic_store(&c->paused, 1);
        braid_byte_stream_read_stop(c->bs); /* its final call (BRAID_ECANCELED) follows */
        if (braid_byte_stream_write_all(NULL, c->bs, c->out, n, on_written, c) != BRAID_OK) {
            atomic_store(&c->failed, 1);
            pause_step(c);
        }
        return;
    }
    /* The final call: our pause, or end of file, an error, a shutdown. */
    if (status == BRAID_ECANCELED && atomic_load(&c->paused)) pause_step(c);
    else conn_end(c);
}

/* ---- the listener: a repeating accept ----------------------------------------------- */

static void on_accept(void *user_data, int status, braid_tcp_stream *stream);

static void accept_start(server *srv) {
    if (braid_tcp_listener_accept_start(NULL, srv->listener, on_accept, srv) != BRAID_OK)
        atomic_store(&srv->backing_off, 0); /* closed or stopping */
}

static void on_backoff(void *user_data, int status) {
    server *srv = user_data;
    atomic_store(&srv->backing_off, 0);
    if (status == BRAID_OK) accept_start(srv);
}

static void on_accept(void *user_data, int status, braid_tcp_stream *stream) {
    server *srv = user_data;
    if (status == BRAID_OK) {
        connection *c = NULL;
        if (braid_semaphore_try_acquire(srv->slots, 1) != BRAID_OK) { /* full: refuse it */
            braid_tcp_stream_free(stream);
            return;
        }
        c = calloc(1, sizeof *c);
        if (!c) {
            braid_tcp_stream_free(stream);
            braid_semaphore_release(srv->slots, 1);
            return;
        }
        c->srv = srv;
        c->stream = stream;
        c->bs = braid_tcp_stream_as_byte_stream(stream);
        atomic_fetch_add(&srv->open, 1);
        braid_tcp_stream_set_nodelay(stream, 1);
        conn_read(c);
        return;
    }
    if (status == BRAID_ECANCELED && atomic_load(&srv->backing_off)) {
        /* The final call of the accept we stopped below: start again soon. */
        if (braid_sleep(NULL, srv->rt, 100, on_backoff, srv) != BRAID_OK) atomic_store(&srv->backing_off, 0);
        return;
    }
    if (status == BRAID_ECLOSED || status == BRAID_ESHUTDOWN || status == BRAID_ECANCELED) return; /* stopping */
    /* Out of file descriptors or memory: transient.  The connection waits in
     * the backlog; stop accepting and try again in a moment. */
    printf("accept failed (%s); retrying in 100 ms\n", braid_err_name(status));
    fflush(stdout);
    atomic_store(&srv->backing_off, 1);
    braid_tcp_listener_accept_stop(srv->listener); /* the final call (BRAID_ECANCELED) follows */
}

/* ---- stopping ------------------------------------------------------------------- */

static void on_signal(void *user_data, int status) {
    if (status == BRAID_OK) braid_notify_notify_one(user_data); /* main thread goes on */
}

/* ---- --self-test: a client in callback style ------------------------------------ */

static const char kMessage[] = "hello, echo\n";

typedef struct client {
    braid_tcp_stream *stream;
    char back[sizeof kMessage];
    char tail[1];
    int result; /* 0: the echo was right and the server closed after it */
    braid_notify *done;
} client;

static void client_end(client *cl, int result) {
    cl->result = result;
    braid_tcp_stream_free(cl->stream);
    cl->stream = NULL;
    braid_notify_notify_one(cl->done); /* stored if main does not wait yet */
}

static void on_server_closed(void *user_data, int status, size_t n) {
    client *cl = user_data;
    client_end(cl, status == BRAID_OK && n == 0 ? 0 : 1); /* end of file */
}

static void on_echo(void *user_data, int status, size_t n) {
    client *cl = user_data;
    if (status != BRAID_OK || n != sizeof kMessage - 1 || memcmp(cl->back, kMessage, n) != 0) {
        client_end(cl, 1);
        return;
    }
    printf("sent %zu bytes, got back \"%.*s\"\n", n, (int)n - 1, cl->back);
    /* Done writing: the server reads end of file, closes, and we read it. */
    braid_byte_stream *bs = braid_tcp_stream_as_byte_stream(cl->stream);
    if (braid_byte_stream_shutdown_write(bs) != BRAID_OK ||
        braid_byte_stream_read(NULL, bs, cl->tail, sizeof cl->tail, on_server_closed, cl) != BRAID_OK)
        client_end(cl, 1);
}

static void on_sent(void *user_data, int status, size_t n) {
    client *cl = user_data;
    (void)n;
    if (status != BRAID_OK ||
        braid_byte_stream_read_exact(NULL, braid_tcp_stream_as_byte_stream(cl->stream), cl->back, sizeof kMessage - 1,
                                     on_echo, cl) != BRAID_OK)
        client_end(cl, 1);
}

static void on_connect(void *user_data, int status, braid_tcp_stream *stream) {
    client *cl = user_data;
    cl->stream = stream;
    if (status != BRAID_OK ||
        braid_byte_stream_write_all(NULL, braid_tcp_stream_as_byte_stream(stream), kMessage, sizeof kMessage - 1,
                                    on_sent, cl) != BRAID_OK)
        client_end(cl, 1);
}

/* ---- main --------------------------------------------------------------------------- */

static int fail(const char *what, int rc) {
    fprintf(stderr, "echo_server_c: %s: %s\n", what, braid_strerror(rc));
    return 1;
}

int main(int argc, char **argv) {
    const char *addr_text = "127.0.0.1:8080";
    int self_test = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--self-test")) self_test = 1;
        else addr_text = argv[i];
    }

    struct sockaddr_storage addr;
    size_t addr_len = 0;
    int rc = braid_addr_parse(&addr, &addr_len, addr_text);
    if (rc != BRAID_OK) return fail(addr_text, rc);

    server srv;
    memset(&srv, 0, sizeof srv);
    atomic_init(&srv.bytes, 0);
    atomic_init(&srv.open, 0);
    atomic_init(&srv.backing_off, 0);
    braid_runtime_builder *b = NULL;
    rc = braid_runtime_builder_new(&b);
    if (rc == BRAID_OK) rc = braid_runtime_builder_worker_threads(b, 2);
    if (rc == BRAID_OK) rc = braid_runtime_build(&srv.rt, b);
    braid_runtime_builder_free(b);
    if (rc != BRAID_OK) return fail("runtime", rc);

    braid_notify *stop = NULL;
    rc = braid_semaphore_new(&srv.slots, MAX_CONNECTIONS);
    if (rc == BRAID_OK) rc = braid_notify_new(&stop);
    if (rc == BRAID_OK)
        rc = braid_tcp_listener_bind(&srv.listener, srv.rt, (const struct sockaddr *)&addr, addr_len, 0);
    if (rc != BRAID_OK) {
        braid_runtime_free(srv.rt);
        braid_notify_free(stop);
        braid_semaphore_free(srv.slots);
        return fail("bind", rc);
    }
    struct sockaddr_storage local;
    size_t local_len = sizeof local;
    char local_text[128] = "?";
    if (braid_tcp_listener_local_addr(srv.listener, &local, &local_len) == BRAID_OK)
        braid_addr_format(local_text, sizeof local_text, (const struct sockaddr *)&local, local_len);

    accept_start(&srv);

    int result = 0;
    client cl;
    memset(&cl, 0, sizeof cl);
    cl.result = 1;
    if (self_test) {
        cl.done = stop;
        rc = braid_tcp_connect(NULL, srv.rt, (const struct sockaddr *)&local, local_len, on_connect, &cl);
        if (rc != BRAID_OK) {
            fail("connect", rc);
        } else {
            braid_notify_notified_blocking(stop, BRAID_WAIT_FOREVER); /* the client is done */
        }
        result = cl.result;
    } else {
        printf("echo server listening on %s (Ctrl-C to stop)\n", local_text);
        fflush(stdout);
        braid_signal_wait(NULL, srv.rt, SIGINT, on_signal, stop);
        braid_signal_wait(NULL, srv.rt, SIGTERM, on_signal, stop);
        braid_notify_notified_blocking(stop, BRAID_WAIT_FOREVER);
    }

    /* Stop accepting, then free the runtime: every pending read, write,
     * accept and sleep calls back with BRAID_ECANCELED (or BRAID_ECLOSED)
     * before this returns, and those callbacks free their connections. */
    braid_tcp_listener_close(srv.listener);
    braid_runtime_free(srv.rt);
    braid_tcp_listener_free(srv.listener);
    int still_open = atomic_load(&srv.open);
    unsigned long long bytes = atomic_load(&srv.bytes);
    printf("stopping; %llu bytes echoed, %d connections left open\n", bytes, still_open);
    size_t permits = braid_semaphore_available_permits(srv.slots);
    braid_semaphore_free(srv.slots);
    braid_notify_free(stop);
    if (self_test) {
        /* Every connection ended and gave its permit back; the line came back. */
        if (still_open != 0 || permits != MAX_CONNECTIONS || bytes != sizeof kMessage - 1) result = 1;
        return result;
    }
    return 0;
}
