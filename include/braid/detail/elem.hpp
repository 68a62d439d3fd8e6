// The element functions the C ABI's channels take, for a C++ type T.
#pragma once

#include <braid/elem.h>

#include <new>
#include <type_traits>
#include <utility>

namespace braid::detail {

// noexcept: the C ABI's element functions must not throw (braid/elem.h);
// a move constructor that throws here ends the program (std::terminate)
// instead of unwinding through a channel halfway through an operation.
template <class T>
struct Elem {
    static void relocate(void* dst, void* src) noexcept {
        T* s = static_cast<T*>(src);
        ::new (dst) T(std::move(*s));
        s->~T();
    }
    static void drop(void* v) noexcept { static_cast<T*>(v)->~T(); }
    // Trivially copyable types travel as bytes.
    static constexpr braid_relocate_fn relocate_fn() {
        return std::is_trivially_copyable_v<T> ? nullptr : &relocate;
    }
    static constexpr braid_drop_fn drop_fn() { return std::is_trivially_destructible_v<T> ? nullptr : &drop; }
};

// Uninitialised storage for one T that a C call moves a value into.
template <class T>
class Slot {
public:
    Slot() = default;
    Slot(const Slot&) = delete;
    ~Slot() {
        if (full_) ptr()->~T();
    }
    void* raw() { return &buf_; }
    template <class... A>
    void emplace(A&&... a) {
        ::new (raw()) T(std::forward<A>(a)...);
        full_ = true;
    }
    // A C call moved a value in / out of it.
    void filled() { full_ = true; }
    void emptied() { full_ = false; }
    bool full() const noexcept { return full_; }
    T take() {
        T v = std::move(*ptr());
        ptr()->~T();
        full_ = false;
        return v;
    }

private:
    T* ptr() { return std::launder(reinterpret_cast<T*>(&buf_)); }
    alignas(T) unsigned char buf_[sizeof(T)];
    bool full_ = false;
};

}  // namespace braid::detail
