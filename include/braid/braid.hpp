// braid — the C++20 layer, umbrella header.  Header-only; every class is a
// thin owner of a C handle (braid/braid.h) and calls nothing but the C ABI.
#pragma once

#include <braid/braid.h>

#include <braid/async_fd.hpp>
#include <braid/cancellation_token.hpp>
#include <braid/error.hpp>
#include <braid/join.hpp>
#include <braid/join_handle.hpp>
#include <braid/join_set.hpp>
#include <braid/io/buf_reader.hpp>
#include <braid/io/buf_writer.hpp>
#include <braid/io/buffer.hpp>
#include <braid/io/codec.hpp>
#include <braid/io/copy.hpp>
#include <braid/io/duplex.hpp>
#include <braid/io/error.hpp>
#include <braid/io/ext.hpp>
#include <braid/io/length_delimited_codec.hpp>
#include <braid/io/lines_codec.hpp>
#include <braid/io/traits.hpp>
#include <braid/io/split.hpp>
#include <braid/net/addr.hpp>
#include <braid/net/dns.hpp>
#include <braid/net/tcp.hpp>
#include <braid/net/udp.hpp>
#include <braid/net/unix_socket.hpp>
#include <braid/runtime.hpp>
#include <braid/select.hpp>
#include <braid/signal.hpp>
#include <braid/sync/barrier.hpp>
#include <braid/sync/broadcast.hpp>
#include <braid/sync/mpsc.hpp>
#include <braid/sync/mutex.hpp>
#include <braid/sync/notify.hpp>
#include <braid/sync/once_cell.hpp>
#include <braid/sync/oneshot.hpp>
#include <braid/sync/rwlock.hpp>
#include <braid/sync/semaphore.hpp>
#include <braid/sync/watch.hpp>
#include <braid/spawn.hpp>
#include <braid/stream.hpp>
#include <braid/task.hpp>
#include <braid/task_local.hpp>
#include <braid/time.hpp>
#include <braid/timeout.hpp>
