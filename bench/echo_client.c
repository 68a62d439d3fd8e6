/* A load client for bench/asyncio_echo.py (--client c): `conns` TCP
 * connections to 127.0.0.1:port in ping-pong, each sending `size` bytes and
 * waiting for them to come back, for `seconds`; prints the round trips made
 * and the seconds taken.  One thread and epoll; a socket is read only when
 * epoll says it is readable (so the blocking recv does not wait), and a
 * message is sent only when the last one came back (so the send does not
 * wait for room either): a round trip costs it a few system
 * calls and no interpreter, so that the server, not the client, bounds the
 * rate.
 *
 *     cc -O2 -o echo_client bench/echo_client.c
 *     echo_client PORT CONNS SIZE SECONDS   ->  "ROUNDTRIPS ELAPSED_SECONDS"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    size_t got; /* bytes of the current echo read so far */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void send_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("send");
        }
        buf += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT CONNS SIZE SECONDS\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), conns = atoi(argv[2]);
    size_t size = (size_t)atol(argv[3]);
    double seconds = atof(argv[4]);
    if (port <= 0 || conns <= 0 || size == 0 || seconds <= 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    char *out = malloc(size), *in = malloc(size);
    struct conn *cs = calloc((size_t)conns, sizeof *cs);
    struct epoll_event *evs = calloc((size_t)conns, sizeof *evs);
    if (!out || !in || !cs || !evs)
        die("malloc");
    memset(out, 'x', size);
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < conns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (fd < 0)
            die("socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            die("connect");
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        cs[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl");
    }
    double t0 = now(), stop = t0 + seconds;
    long long rts = 0;
    int active = conns;
    for (int i = 0; i < conns; i++)
        send_all(cs[i].fd, out, size);
    while (active > 0) {
        int n = epoll_wait(ep, evs, conns, 1000);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int k = 0; k < n; k++) {
            struct conn *c = &cs[evs[k].data.u32];
            ssize_t r = recv(c->fd, in, size - c->got, 0);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                die("recv");
            }
            if (r == 0) {
                fprintf(stderr, "server closed a connection\n");
                return 1;
            }
            c->got += (size_t)r;
            if (c->got < size)
                continue;
            c->got = 0;
            rts++;
            if (now() < stop) {
                send_all(c->fd, out, size);
            } else {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                active--;
            }
        }
    }
    printf("%lld %.6f\n", rts, now() - t0);
    return 0;
}
