// Streams across the C ABI (braid/stream.h).
//
//   braid_stream* c = braid::stream::into_c(numbers() | braid::stream::map(f));   // for C / FFI consumers
//   auto s = braid::stream::from_c<Item>(c_stream);                                // a C-produced stream in C++
//
// into_c moves any stream into a braid_stream handle (the caller owns it:
// braid_stream_free).  Its items are moved out as T, with T's move and
// destructor as the element functions.  An exception thrown by the stream
// becomes BRAID_EPANIC for C consumers; a C++ consumer of the same handle
// (from_c) gets the exception itself back.
//
// from_c<T> takes ownership of a braid_stream whose elements are T
// (sizeof(T) must be the element size: braid::Error BRAID_EINVAL otherwise)
// and gives a stream of T.
#pragma once

#include <braid/detail/elem.hpp>
#include <braid/error.hpp>
#include <braid/stream.h>
#include <braid/stream/core.hpp>

#include <exception>
#include <new>
#include <utility>

namespace braid::stream {

namespace detail {

// What a C++ stream threw, carried across the C poll on the same thread.
inline thread_local std::exception_ptr c_stream_error;

template <AsyncStream S>
struct CProducer {
    using T = item_t<S>;
    S s;
    braid::detail::Context cx;

    explicit CProducer(S st) : s(std::move(st)) {}

    static int poll(void* p, void* out, braid_wake_fn wake, void* data) {
        auto* self = static_cast<CProducer*>(p);
        if (!wake) {
            self->s.detach();
            return BRAID_PENDING;
        }
        if (self->cx.wake_fn != wake || self->cx.wake_data != data) {
            self->s.detach();  // nothing forwards to the old waker once this returns
            self->cx.wake_fn = wake;
            self->cx.wake_data = data;
        }
        try {
            Poll<T> r = self->s.poll_next(self->cx);
            if (!r.ready) return BRAID_PENDING;
            if (!r.item) return BRAID_ECLOSED;
            ::new (out) T(std::move(*r.item));
            return BRAID_OK;
        } catch (...) {
            c_stream_error = std::current_exception();
            self->s.detach();
            return BRAID_EPANIC;
        }
    }
    static void free(void* p) { delete static_cast<CProducer*>(p); }
};

}  // namespace detail

// Moves s into a new braid_stream (owned by the caller).
template <AsyncStream S>
braid_stream* into_c(S s) {
    using T = item_t<S>;
    using P = detail::CProducer<S>;
    auto* p = new P(std::move(s));
    braid_stream* out = nullptr;
    int rc = braid_stream_new(&out, sizeof(T), alignof(T), braid::detail::Elem<T>::relocate_fn(),
                              braid::detail::Elem<T>::drop_fn(), &P::poll, &P::free, p);
    if (rc < 0) {
        delete p;
        throw Error(rc, "stream::into_c");
    }
    return out;
}

// A braid_stream of T, owned.
template <class T>
class CStream : public StreamBase<CStream<T>> {
public:
    using item_type = T;
    explicit CStream(braid_stream* s) : s_(s) {
        if (s && braid_stream_elem_size(s) != sizeof(T)) {
            braid_stream_free(s);
            throw Error(BRAID_EINVAL, "stream::from_c: element size is not sizeof(T)");
        }
    }
    CStream(CStream&& o) noexcept : s_(std::exchange(o.s_, nullptr)), registered_(std::exchange(o.registered_, false)) {}
    CStream(const CStream&) = delete;
    ~CStream() {
        detach();
        braid_stream_free(s_);
    }

    Poll<T> poll_next(braid::detail::Context& cx) {
        if (!s_) throw Error(BRAID_EINVAL, "polling a moved-from stream");
        braid::detail::Slot<T> slot;
        int rc = braid_stream_poll_next(s_, slot.raw(), sizeof(T), cx.wake_fn, cx.wake_data);
        if (rc == BRAID_PENDING) {
            registered_ = true;
            return Poll<T>::pending();
        }
        registered_ = false;
        if (rc == BRAID_OK) {
            slot.filled();
            return {true, slot.take()};
        }
        if (rc == BRAID_ECLOSED) return Poll<T>::end();
        if (rc == BRAID_EPANIC && detail::c_stream_error) std::rethrow_exception(std::exchange(detail::c_stream_error, nullptr));
        throw Error(rc, "stream");
    }
    void detach() noexcept {
        if (registered_) {
            braid_stream_poll_next(s_, nullptr, 0, nullptr, nullptr);
            registered_ = false;
        }
    }

    braid_stream* native_handle() const noexcept { return s_; }
    // Gives the handle back (the caller owns it again).
    braid_stream* release() noexcept {
        detach();
        return std::exchange(s_, nullptr);
    }

private:
    braid_stream* s_;
    bool registered_ = false;
};

template <class T>
CStream<T> from_c(braid_stream* s) {
    return CStream<T>(s);
}

}  // namespace braid::stream
