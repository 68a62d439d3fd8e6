// Conformance: tokio/tests/tcp_stream.rs (Tokio 1.24).  Every case of this
// file is about readiness without an operation (readable(), writable(),
// ready(Interest), poll_read_ready, poll_write_ready), the non-waiting
// try_* operations that go with it, or socket options braid does not
// have, so no case can be ported yet: braid's TcpStream waits inside each
// operation (read, write, peek) and offers no readiness of its own.
//
// Gaps:
//   set_linger - no set_linger()/linger() on TcpStream.
//   try_read_write - no readable()/writable(), try_read()/try_write(),
//     try_read_vectored()/try_write_vectored(), ready(Interest) with
//     is_read_closed().
//   poll_read_ready - no poll_read_ready() (nor try_read(), which the case
//     drains with).
//   poll_write_ready - no poll_write_ready() (nor try_write(), which the
//     case fills with).
//   try_read_buf - no readable()/writable(), try_write(), try_read_buf(),
//     ready(Interest).
//   read_closed - no ready(Interest) (nor Ready::is_read_closed()).
//   write_closed - no ready(Interest), readable(), try_read()/try_write()
//     (nor Ready::is_write_closed()).
//
// Not applicable:
//   buffer_not_included_in_future - it measures a Rust future's size
//     (mem::size_of_val of an async block); a C++ coroutine frame's size is
//     not observable.
