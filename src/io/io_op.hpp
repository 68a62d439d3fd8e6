// The callback operations on sockets that are not byte-stream reads and
// writes (those are in byte_stream): datagram send and receive, accept (once
// or repeating), connect (to an address, or to a host name tried address
// by address) and binding a listener to a host name's first address that
// binds.  Each runs as a future-style task and calls its C callback
// exactly once (a repeating accept: once per connection, then once more with
// its final status).
#pragma once

#include <braid/io.h>
#include <braid/task.h>
#include <sys/socket.h>

#include <cstddef>

#include "io/io_handle.hpp"
#include "task/callback.hpp"

namespace braid::detail::io_op {

// A C callback of some type that only the caller's `Deliver` knows.
using AnyFn = void (*)();
// Hands a connection to the C callback `cb` as the caller's handle type: on
// BRAID_OK it takes over `src` (and closes it when it cannot wrap it, giving
// the callback that error instead); otherwise src is NULL.
using Deliver = void (*)(const Callback<AnyFn>& cb, void* ud, int status, Core* core, IoSource* src);

// Datagram send (to `to`, or the connected peer when NULL) or receive (the
// sender's address written to from/from_len, which must stay alive).
int start_dgram(braid_task** out, IoHandle* h, bool recv, void* buf, std::size_t len, const sockaddr* to,
                std::size_t to_len, sockaddr_storage* from, std::size_t* from_len, braid_io_callback cb, void* ud);

// Accept on a listener: the next connection, or (repeat) every connection
// until stopped.  A repeating accept reports a failed accept (BRAID_EMFILE,
// BRAID_ENOMEM, ...) to the callback and tries again at once; it ends, with
// one final call, on BRAID_ECANCELED/BRAID_ETIMEDOUT (stopped),
// BRAID_ECLOSED or BRAID_ESHUTDOWN.
int start_accept(braid_task** out, IoHandle* l, bool repeat, Deliver deliver, AnyFn cb, void* ud);
// Stops the repeating accept of l (BRAID_OK also when none runs).
int accept_stop(IoHandle* l);
// Whether a status of a repeating accept is its final one.
bool accept_final(int status);

// Connect to `addr` (AF_INET, AF_INET6 or AF_UNIX, checked by the caller).
int start_connect(braid_task** out, Core* core, const sockaddr* addr, std::size_t len, Deliver deliver, AnyFn cb,
                  void* ud);
// Resolve `host` (DnsQuery) and connect to its addresses in order; the first
// that connects wins, the first error is reported when none does.
// BRAID_EINVAL for a NULL, empty or too long host.
int start_connect_host(braid_task** out, Core* core, const char* host, int port, Deliver deliver, AnyFn cb,
                       void* ud);
// Resolve `host` and bind a TCP listener (SO_REUSEADDR, `backlog`; <= 0:
// 1024) to the first of its addresses that binds; the last error is reported
// when none does.  Errors returned as start_connect_host's.
int start_bind_host(braid_task** out, Core* core, const char* host, int port, int backlog, Deliver deliver,
                    AnyFn cb, void* ud);

}  // namespace braid::detail::io_op
