// copy and copy_bidirectional between any AsyncRead and AsyncWrite.
//
//   uint64_t n = co_await braid::io::copy(reader, writer);        // until EOF; then writer.flush()
//   auto [a_to_b, b_to_a] = co_await braid::io::copy_bidirectional(a, b);
//
// copy reads into a 64 KiB buffer of its own and writes all of each chunk;
// it returns the byte count at end of file.  Like Tokio's copy, it flushes
// the writer whenever the reader would wait and bytes were written since the
// last flush, so a buffered writer (BufWriter) never holds data back while
// the source is idle: a proxy does not stall.  (Writers whose flush() is
// ready at once, a TcpStream say, skip that check.)  copy_bidirectional runs both
// directions at once inside the calling task; when one side reaches end of
// file it shuts the other side's write half down (the peer sees EOF) and
// keeps copying the other way until that ends too.  The first error cancels
// both directions and is rethrown.  Neither is cancel-safe: bytes read but
// not yet written are lost with the frame.
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/io/buffer.hpp>
#include <braid/io/ext.hpp>
#include <braid/io/traits.hpp>
#include <braid/join.hpp>
#include <braid/task.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace braid::io {

inline constexpr std::size_t kCopyBufferSize = 64 * 1024;

namespace detail {

// A read run as a branch of the calling task, so that the task learns
// whether it would wait and can flush meanwhile (the read goes on).
template <class T>
class ReadBranch {
public:
    explicit ReadBranch(Task<T> t) : b_(std::move(t)) {}

    // co_await start(): polls the read once under the caller's context;
    // true when it finished without waiting.  Never suspends.
    struct Start {
        ReadBranch* self;
        bool done = false;
        bool await_ready() const noexcept { return false; }
        template <class P>
        bool await_suspend(std::coroutine_handle<P> h) {
            self->b_.start(h.promise().ctx);
            done = self->b_.poll();
            return false;
        }
        bool await_resume() const noexcept { return done; }
    };
    Start start() { return Start{this}; }

    // co_await finish(): the read's value (or its exception), once it ends.
    struct Finish {
        ReadBranch* self;
        bool await_ready() { return self->b_.poll(); }
        template <class P>
        bool await_suspend(std::coroutine_handle<P> h) {
            h.promise().ctx->wait_on(h, &repoll, &self->b_);
            return true;
        }
        static bool repoll(void* b, braid::detail::Context&) {
            return static_cast<braid::detail::Branch<T>*>(b)->poll();
        }
        T await_resume() { return self->b_.take(); }
    };
    Finish finish() { return Finish{this}; }

private:
    braid::detail::Branch<T> b_;
};

// Whether w.flush() is ready at once by its type (nothing to flush).
template <class W>
inline constexpr bool kFlushIsNoop = std::is_same_v<std::remove_cvref_t<decltype(std::declval<W&>().flush())>,
                                                    std::suspend_never>;

}  // namespace detail

template <AsyncRead R, AsyncWrite W>
Task<uint64_t> copy(R& reader, W& writer) {
    std::unique_ptr<std::byte[]> buf(new std::byte[kCopyBufferSize]);
    uint64_t total = 0;
    bool need_flush = false;  // written since the last flush
    for (;;) {
        std::size_t n;
        if constexpr (!detail::kFlushIsNoop<W>) {
            if (need_flush) {
                // Tokio's rule: when the read would wait, flush first.
                auto read = braid::detail::as_task(reader.read(MutableBuffer(buf.get(), kCopyBufferSize)));
                detail::ReadBranch<typename decltype(read)::value_type> rd(std::move(read));
                bool ready = co_await rd.start();  // not in the condition: g++ 12.2 (docs/compilers.md)
                if (!ready) {
                    co_await writer.flush();
                    need_flush = false;
                }
                n = co_await rd.finish();
            } else {
                n = co_await reader.read(MutableBuffer(buf.get(), kCopyBufferSize));
            }
        } else {
            n = co_await reader.read(MutableBuffer(buf.get(), kCopyBufferSize));
        }
        if (n == 0) break;
        if constexpr (requires { writer.write_all(ConstBuffer()); })
            co_await writer.write_all(ConstBuffer(buf.get(), n));  // a native one: no frame
        else
            co_await write_all(writer, ConstBuffer(buf.get(), n));
        total += n;
        need_flush = true;
    }
    co_await writer.flush();
    co_return total;
}

namespace detail {
template <AsyncRead R, AsyncWrite W>
Task<uint64_t> copy_then_shutdown(R& reader, W& writer) {
    uint64_t n = co_await copy(reader, writer);
    co_await writer.shutdown();
    co_return n;
}
}  // namespace detail

// Copies a -> b and b -> a at the same time until both reach end of file.
// Returns {bytes a -> b, bytes b -> a}.
template <class A, class B>
    requires AsyncRead<A> && AsyncWrite<A> && AsyncRead<B> && AsyncWrite<B>
Task<std::pair<uint64_t, uint64_t>> copy_bidirectional(A& a, B& b) {
    auto [ab, ba] = co_await braid::try_join(detail::copy_then_shutdown(a, b), detail::copy_then_shutdown(b, a));
    co_return std::make_pair(ab, ba);
}

}  // namespace braid::io
