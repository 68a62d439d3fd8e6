// The process's standard streams as braid readers and writers (Tokio's
// tokio::io::stdin(), stdout(), stderr()): Stdin is an AsyncRead, Stdout and
// Stderr are AsyncWrites, so BufReader, lines(), copy() and the codecs work
// on them.
//
//   braid::io::BufReader in(braid::io::Stdin{});
//   braid::io::Stdout out;
//   auto lines = in.lines();
//   while (auto l = co_await lines.next()) co_await out.write_all(*l + "\n");
//
// Names: stdin, stdout and stderr are macros of <cstdio>, so where Tokio has
// the functions stdin()/stdout()/stderr() braid has the classes Stdin,
// Stdout and Stderr, made inside a runtime (IoError(BRAID_EINVAL) outside
// one).
//
// How: each object holds a braid::fs::File over a duplicate of fd 0, 1 or 2
// (braid_file_new_stdio in braid/fs.h), and reads and writes on the
// runtime's blocking pool, as Tokio does.  The fds may be terminals, files
// or pipes shared with the parent process, so braid never makes them
// non-blocking (O_NONBLOCK belongs to the open file description the parent
// shell shares); an fd that someone else made non-blocking is waited for on
// the pool thread.
//
// Order: the writes of one object happen in order, one at a time (a second
// operation while one runs throws IoError(BRAID_EBUSY)).  Writes through
// several objects, from several tasks, may interleave, as with any writers
// of one fd: to keep lines whole, write each line in one write_all and from
// one object (or through a BufWriter flushed per line).  write() writes all
// of its buffer (the size returned is b.size).  Writing to a pipe whose
// reader went away throws IoError(BRAID_EPIPE), never SIGPIPE.
//
// Cancellation: a read or write that has started on the pool runs to its
// end; a cancelled read loses the bytes it read (not cancel-safe).  A read
// of a terminal waits for a line (or end of file) and cannot be
// interrupted: shutting the runtime down waits for it too, as in Tokio.
#pragma once

#include <braid/fs.h>
#include <braid/fs.hpp>
#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>

#include <coroutine>
#include <unistd.h>

namespace braid::io {

namespace detail {
inline braid::fs::File stdio_file(int fd, const char* what) {
    braid_file* f = nullptr;
    braid::detail::check_io(braid_file_new_stdio(&f, nullptr, fd), what);
    return braid::fs::File(f);
}
}  // namespace detail

class Stdin {
public:
    Stdin() : f_(detail::stdio_file(STDIN_FILENO, "Stdin")) {}
    // Some bytes (0: end of file).  A zero-length buffer throws (BRAID_EINVAL).
    auto read(MutableBuffer b) { return f_.read(b); }
    braid::fs::File& file() { return f_; }

private:
    braid::fs::File f_;
};

// Stdout and Stderr: the same writer over fd 1 or 2.
template <int Fd>
class StdWriter {
public:
    StdWriter() : f_(detail::stdio_file(Fd, Fd == STDOUT_FILENO ? "Stdout" : "Stderr")) {}
    // All of b (returns b.size); b is copied first.
    auto write(ConstBuffer b) { return f_.write(b); }
    auto write_all(ConstBuffer b) { return f_.write(b); }
    // Nothing is buffered in user space: ready at once.
    std::suspend_never flush() { return {}; }
    // The fd stays open (it is the process's): ready at once.
    std::suspend_never shutdown() { return {}; }
    braid::fs::File& file() { return f_; }

private:
    braid::fs::File f_;
};

using Stdout = StdWriter<STDOUT_FILENO>;
using Stderr = StdWriter<STDERR_FILENO>;

}  // namespace braid::io
