// braid::TryResult: what an attempt that does not wait gives — a value, or
// why there is none (Tokio's Result<T, TryRecvError> and friends).
//
//   auto r = rx.try_recv();         // braid::TryResult<int, braid::TryRecvError>
//   if (r) use(*r);                 // a value
//   else if (r.is_closed()) stop(); // nothing will ever come
//   else retry_later();             // r.is_empty(): nothing yet
//
// It reads like std::optional<T> (bool test, *, ->, value(), comparison with
// std::nullopt or an optional), so code written against an optional keeps
// working, and it says why it is empty: error().
#pragma once

#include <braid/error.h>
#include <braid/error.hpp>

#include <concepts>
#include <optional>
#include <utility>

namespace braid {

// Why try_recv gave nothing: Empty (nothing yet; the channel is open) or
// Closed (nothing left and nothing will come: Tokio's Disconnected).
enum class TryRecvError { Empty, Closed };

// Why try_reserve gave no slot: Full (no room now) or Closed (never again).
enum class TryReserveError { Full, Closed };

// Why Semaphore::try_acquire gave no permit: NoPermits (not enough free
// now, or others wait ahead) or Closed (Tokio's TryAcquireError).
enum class TryAcquireError { NoPermits, Closed };

template <class T, class E>
class TryResult {
public:
    TryResult(T v) : v_(std::move(v)) {}  // NOLINT: a value converts, as into an optional
    TryResult(E e) : e_(e) {}             // NOLINT: and so does the reason

    bool has_value() const noexcept { return v_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    T& operator*() & { return *v_; }
    const T& operator*() const& { return *v_; }
    T&& operator*() && { return std::move(*v_); }
    T* operator->() { return &*v_; }
    const T* operator->() const { return &*v_; }
    // The value; throws braid::Error (BRAID_EAGAIN for Empty/Full,
    // BRAID_ECLOSED for Closed) when there is none.
    T& value() & {
        if (!v_) throw_error();
        return *v_;
    }
    T&& value() && {
        if (!v_) throw_error();
        return std::move(*v_);
    }
    // Drops the value (as std::optional::reset; a permit goes back).
    void reset() noexcept { v_.reset(); }
    // Why there is no value (meaningless when there is one).
    E error() const noexcept { return e_; }

    bool is_closed() const noexcept { return !v_ && e_ == E::Closed; }
    bool is_empty() const noexcept
        requires std::same_as<E, TryRecvError>
    {
        return !v_ && e_ == E::Empty;
    }
    bool is_full() const noexcept
        requires std::same_as<E, TryReserveError>
    {
        return !v_ && e_ == E::Full;
    }
    bool is_no_permits() const noexcept
        requires std::same_as<E, TryAcquireError>
    {
        return !v_ && e_ == E::NoPermits;
    }

    // As an optional (the reason dropped).
    std::optional<T> to_optional() && { return std::move(v_); }
    operator std::optional<T>() && { return std::move(v_); }  // NOLINT: reads as an optional

    friend bool operator==(const TryResult& r, std::nullopt_t) noexcept { return !r.v_; }
    friend bool operator==(const TryResult& r, const std::optional<T>& o)
        requires std::equality_comparable<T>
    {
        return r.v_ == o;
    }

private:
    [[noreturn]] void throw_error() const {
        throw Error(e_ == E::Closed ? BRAID_ECLOSED : BRAID_EAGAIN, "no value");
    }
    std::optional<T> v_;
    E e_{};
};

template <class T>
using TryRecvResult = TryResult<T, TryRecvError>;

}  // namespace braid
