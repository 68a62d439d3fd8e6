// braid::Semaphore: an async counting semaphore.
//
//   braid::Semaphore sem(3);
//   { auto permit = co_await sem.acquire(); co_await do_work(); }   // at most 3 inside
//
// Acquires are served in FIFO order; acquire_many(n) is handed permits as
// they come back, so it is never starved by smaller acquires.  A permit
// gives its permits back when destroyed (forget() keeps them out).  Acquiring
// from a closed semaphore throws braid::AcquireError.  Cancelling an acquire
// (abort, select, timeout) gives back any permits it had been granted.
#pragma once

#include <braid/error.hpp>
#include <braid/semaphore.h>
#include <braid/sync/try_result.hpp>
#include <braid/detail/unstable.hpp>
#include <braid/sync/wait_leaf.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

namespace braid {

// Permits taken from a Semaphore; released when destroyed.
class SemaphorePermit {
public:
    SemaphorePermit() = default;
    SemaphorePermit(braid_semaphore* s, std::size_t n) : s_(s), n_(n) {}
    SemaphorePermit(SemaphorePermit&& o) noexcept : s_(std::exchange(o.s_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    SemaphorePermit& operator=(SemaphorePermit&& o) noexcept {
        if (this != &o) {
            release();
            s_ = std::exchange(o.s_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    ~SemaphorePermit() { release(); }

    std::size_t num_permits() const noexcept { return n_; }
    // Keeps the permits out of the semaphore for good.
    void forget() noexcept {
        s_ = nullptr;
        n_ = 0;
    }
    // Takes over the permits of `other` (from the same semaphore).
    void merge(SemaphorePermit&& other) {
        if (other.s_ && s_ && other.s_ != s_) throw Error(BRAID_EINVAL, "merging permits of different semaphores");
        if (!s_) s_ = other.s_;
        n_ += std::exchange(other.n_, 0);
        other.s_ = nullptr;
    }
    // Splits n permits off into a new permit (std::nullopt if fewer are held).
    std::optional<SemaphorePermit> split(std::size_t n) {
        if (n > n_) return std::nullopt;
        n_ -= n;
        return SemaphorePermit(s_, n);
    }

private:
    void release() noexcept {
        if (s_ && n_) braid_semaphore_release(s_, n_);
        s_ = nullptr;
        n_ = 0;
    }
    braid_semaphore* s_ = nullptr;
    std::size_t n_ = 0;
};

class Semaphore {
public:
    static constexpr std::size_t MAX_PERMITS = std::size_t(BRAID_SEMAPHORE_MAX_PERMITS);

    explicit Semaphore(std::size_t permits) { detail::check(braid_semaphore_new(&s_, permits), "Semaphore"); }
    Semaphore(Semaphore&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    ~Semaphore() { braid_semaphore_free(s_); }

    std::size_t available_permits() const { return braid_semaphore_available_permits(native()); }
    // Adds permits (serving waiters first).  Throws beyond MAX_PERMITS.
    void add_permits(std::size_t n) { detail::check(braid_semaphore_release(native(), n), "Semaphore::add_permits"); }
    // Removes up to n free permits for good; how many it removed.
    std::size_t forget_permits(std::size_t n) { return braid_semaphore_forget_permits(native(), n); }
    // Waiting and later acquires throw AcquireError; held permits stay valid.
    void close() { braid_semaphore_close(native()); }
    bool is_closed() const { return braid_semaphore_is_closed(native()) == 1; }

    // co_await: a SemaphorePermit for n permits.
    class [[nodiscard]] Acquire
        : public detail::WaitLeaf<Acquire, braid_semaphore, &braid_semaphore_cancel_acquire,
                                  &braid_semaphore_unregister_acquire> {
    public:
        using Base =
            detail::WaitLeaf<Acquire, braid_semaphore, &braid_semaphore_cancel_acquire,
                             &braid_semaphore_unregister_acquire>;
        Acquire(braid_semaphore* s, std::size_t n) : Base(s), n_(n) {}
        int poll(braid_wake_fn w, void* d) { return braid_semaphore_poll_acquire(this->h_, n_, &this->w_, w, d); }
        SemaphorePermit finish(int st) {
            if (st == BRAID_ECLOSED) throw AcquireError();
            detail::check(st, "Semaphore::acquire");
            return SemaphorePermit(this->h_, n_);
        }

    private:
        std::size_t n_;
    };
    Acquire acquire() { return Acquire(native(), 1); }
    Acquire acquire_many(std::size_t n) { return Acquire(native(), n); }

    // n permits if they are free now (and nobody waits ahead); else
    // error() says NoPermits or Closed (Tokio's TryAcquireError).
    TryResult<SemaphorePermit, TryAcquireError> try_acquire(std::size_t n = 1) {
        int rc = braid_semaphore_try_acquire(native(), n);
        if (rc == BRAID_OK) return SemaphorePermit(s_, n);
        if (rc == BRAID_EAGAIN) return TryAcquireError::NoPermits;
        if (rc == BRAID_ECLOSED) return TryAcquireError::Closed;
        throw Error(rc, "Semaphore::try_acquire");
    }
    TryResult<SemaphorePermit, TryAcquireError> try_acquire_many(std::size_t n) { return try_acquire(n); }
    // Blocks this (non-runtime) thread; throws AcquireError when closed.
    SemaphorePermit blocking_acquire(std::size_t n = 1) {
        int rc = braid_semaphore_acquire_blocking(native(), n, BRAID_WAIT_FOREVER);
        if (rc == BRAID_ECLOSED) throw AcquireError();
        detail::check(rc, "Semaphore::blocking_acquire");
        return SemaphorePermit(s_, n);
    }

    braid_semaphore* native_handle() const noexcept { return s_; }

private:
    braid_semaphore* native() const {
        if (!s_) throw Error(BRAID_EINVAL, "moved-from Semaphore");
        return s_;
    }
    braid_semaphore* s_ = nullptr;
};

// Permits that keep their semaphore alive (they can go anywhere, e.g. into
// a spawned task).
class OwnedSemaphorePermit {
public:
    OwnedSemaphorePermit() = default;
    OwnedSemaphorePermit(std::shared_ptr<Semaphore> s, SemaphorePermit p) : s_(std::move(s)), p_(std::move(p)) {}
    OwnedSemaphorePermit(OwnedSemaphorePermit&&) noexcept = default;
    OwnedSemaphorePermit& operator=(OwnedSemaphorePermit&& o) noexcept {
        if (this != &o) {
            p_ = std::move(o.p_);  // releases ours first, while s_ still holds the semaphore
            s_ = std::move(o.s_);
        }
        return *this;
    }
    ~OwnedSemaphorePermit() { p_ = SemaphorePermit(); }

    std::size_t num_permits() const noexcept { return p_.num_permits(); }
    void forget() noexcept { p_.forget(); }
    const std::shared_ptr<Semaphore>& semaphore() const noexcept { return s_; }
    // Takes over the permits of `other` (from the same semaphore; else
    // braid::Error BRAID_EINVAL and nothing changes).
    void merge(OwnedSemaphorePermit&& other) {
        if (other.s_ && s_ && other.s_ != s_) throw Error(BRAID_EINVAL, "merging permits of different semaphores");
        p_.merge(std::move(other.p_));
        if (!s_) s_ = std::move(other.s_);
        other.s_.reset();
    }
    // Splits n permits off into a new owned permit (std::nullopt if fewer
    // are held).
    std::optional<OwnedSemaphorePermit> split(std::size_t n) {
        auto part = p_.split(n);
        if (!part) return std::nullopt;
        return OwnedSemaphorePermit(s_, std::move(*part));
    }

private:
    std::shared_ptr<Semaphore> s_;
    SemaphorePermit p_;
};

namespace detail {
class [[nodiscard]] AcquireOwned {
public:
    AcquireOwned(std::shared_ptr<Semaphore> s, std::size_t n)
        : s_(std::move(s)), inner_(checked(s_)->acquire_many(n)) {}
    bool await_ready() { return inner_.await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return inner_.await_suspend(h);
    }
    OwnedSemaphorePermit await_resume() { return OwnedSemaphorePermit(s_, inner_.await_resume()); }
    void unregister() noexcept { inner_.unregister(); }

private:
    static Semaphore* checked(const std::shared_ptr<Semaphore>& s) {
        if (!s) throw Error(BRAID_EINVAL, "acquire_owned on a null semaphore");
        return s.get();
    }
    std::shared_ptr<Semaphore> s_;
    Semaphore::Acquire inner_;
};
}  // namespace detail

// co_await acquire_owned(sem, n): an OwnedSemaphorePermit.
inline detail::AcquireOwned acquire_owned(std::shared_ptr<Semaphore> sem, std::size_t n = 1) {
    return detail::AcquireOwned(std::move(sem), n);
}

// Without waiting: n permits that keep sem alive, or why not (NoPermits,
// Closed).  Tokio's try_acquire_owned / try_acquire_many_owned.
inline TryResult<OwnedSemaphorePermit, TryAcquireError> try_acquire_owned(std::shared_ptr<Semaphore> sem,
                                                                         std::size_t n = 1) {
    if (!sem) throw Error(BRAID_EINVAL, "try_acquire_owned on a null semaphore");
    auto p = sem->try_acquire(n);
    if (!p) return p.error();
    return OwnedSemaphorePermit(std::move(sem), std::move(*p));
}
inline TryResult<OwnedSemaphorePermit, TryAcquireError> try_acquire_many_owned(std::shared_ptr<Semaphore> sem,
                                                                              std::size_t n) {
    return try_acquire_owned(std::move(sem), n);
}

}  // namespace braid
