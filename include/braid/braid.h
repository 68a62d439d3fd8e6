/* braid — the async runtime for C and C++.  The stable C ABI, umbrella
 * header.  Link with -lbraid (pkg-config --cflags --libs braid).
 *
 * Conventions (see docs/c-api.md):
 *  - opaque handles; every constructor has a free that accepts NULL;
 *  - functions return 0 / a documented positive value, or a negative
 *    BRAID_E* code (braid_strerror, braid_err_name);
 *  - out-parameters come first and are named out; callbacks take
 *    user_data last; a call that returns an error never invokes its
 *    callback, a call that succeeds invokes it exactly once;
 *  - no C++ exception ever crosses this boundary.
 *
 * Everything declared through this header is covered by the ABI stability
 * promise of docs/c-api.md.  The plumbing of the C++ layer (the braid_waiter
 * protocol, braid_alloc/braid_free, braid_coop_take) is not: it lives in
 * the headers under braid/unstable/, which this header does not include and which need
 * BRAID_UNSTABLE_API defined.
 */
#ifndef BRAID_H
#define BRAID_H

#include "export.h"
#include "error.h"
#include "runtime.h"
#include "metrics.h"
#include "task.h"
#include "time.h"
#include "fd.h"
#include "elem.h"
#include "oneshot.h"
#include "join_set.h"
#include "local_set.h"
#include "cancel.h"
#include "signal.h"
#include "mpsc.h"
#include "broadcast.h"
#include "watch.h"
#include "semaphore.h"
#include "mutex.h"
#include "rwlock.h"
#include "notify.h"
#include "barrier.h"
#include "once_cell.h"
#include "stream.h"
#include "io.h"
#include "byte_stream.h"
#include "net.h"
#include "tcp.h"
#include "dns.h"
#include "udp.h"
#include "unix_socket.h"
#include "fs.h"
#include "process.h"
#include "completion_queue.h"
#include "task_dump.h"
#include "stall.h"

#endif /* BRAID_H */
