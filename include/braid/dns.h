/* braid — host name lookups.  Part of the stable C ABI.
 *
 * Resolves a host name (or a numeric address) and a port into socket
 * addresses with the system resolver, through libuv's getaddrinfo (the
 * lookup runs on libuv's thread pool, never on a worker).  Names under the
 * reserved ".invalid" domain (RFC 6761) fail at once with BRAID_ENOTFOUND.
 * A lookup can be cancelled: one that has not started is dropped; one that
 * is running finishes in the background and its result is discarded.
 */
#ifndef BRAID_DNS_H
#define BRAID_DNS_H

#include <stddef.h>

#include "export.h"
#include "error.h"
#include "net.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

/* A lookup, and once it succeeded, its list of addresses. */
typedef struct braid_dns_query braid_dns_query;

/* Completion of braid_dns_lookup: on BRAID_OK `result` is the callee's (free
 * it with braid_dns_query_free); NULL on failure. */
typedef void (*braid_dns_callback)(void *user_data, int status, braid_dns_query *result);

/* Callback style: resolves `host` (non-empty, NUL-terminated) with `port`
 * (0..65535) set in every address.  cb gets BRAID_OK and the result, or
 * BRAID_ENOTFOUND (no such name), BRAID_EAGAIN (temporary resolver failure),
 * BRAID_ECANCELED (aborted through `out`, or shutdown), ...  Errors returned
 * here: BRAID_EINVAL (NULL or empty host, no callback), BRAID_ERANGE (port),
 * BRAID_ESHUTDOWN, BRAID_ENOMEM. */
BRAID_API int braid_dns_lookup(braid_task **out, braid_runtime *rt, const char *host, int port,
                               braid_dns_callback cb, void *user_data);

/* Poll style: starts a lookup (rt NULL: the calling thread's runtime). */
BRAID_API int braid_dns_query_start(braid_dns_query **out, braid_runtime *rt, const char *host, int port);
/* 0 once resolved, BRAID_PENDING after registering the waker, or the
 * lookup's failure (NULL waker: see docs/c-api.md). */
BRAID_API int braid_dns_query_poll_result(braid_dns_query *q, braid_wake_fn wake, void *wake_data);
/* The number of addresses of a resolved query (0 before or on failure). */
BRAID_API size_t braid_dns_query_count(const braid_dns_query *q);
/* Address `i` (< count), in the order the resolver gave them. */
BRAID_API int braid_dns_query_addr(const braid_dns_query *q, size_t i, struct sockaddr_storage *out,
                                   size_t *out_len);
/* Frees the query; a lookup still in progress is cancelled.  NULL ok. */
BRAID_API void braid_dns_query_free(braid_dns_query *q);

BRAID_EXTERN_C_END

#endif /* BRAID_DNS_H */
