// Conformance: tokio/tests/io_poll_aio.rs (Tokio 1.24).  The file is
// FreeBSD's only (#![cfg(target_os = "freebsd")]): it drives POSIX AIO and
// lio_listio completions through kqueue (tokio::io::bsd::Aio).  braid runs
// on Linux's epoll, which has no AIO completion source.
//
// Gaps: none.
//
// Not applicable:
//   aio::fsync, aio::ll_fsync, aio::reuse, lio::onewrite, lio::reuse -
//     kqueue's EVFILT_AIO (FreeBSD only).
#include <catch2/catch.hpp>
