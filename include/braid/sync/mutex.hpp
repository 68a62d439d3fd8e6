// braid::Mutex<T>: an async mutex that owns the value it protects.
//
//   braid::Mutex<std::vector<int>> data;
//   { auto guard = co_await data.lock(); guard->push_back(1); }   // unlocked here
//
// Fair: waiters get the lock in FIFO order.  The guard may be held across
// co_await and released on another worker.  lock_owned(shared_ptr) gives a
// guard that keeps the mutex alive, to move into another task.  A lock
// cancelled while waiting (abort, select, timeout) never leaves the mutex
// locked: if the lock had already been handed to it, it is passed on.
#pragma once

#include <braid/error.hpp>
#include <braid/mutex.h>
#include <braid/detail/unstable.hpp>
#include <braid/sync/wait_leaf.hpp>

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid {

template <class T>
class Mutex;

// A guard narrowed to a part of the value (MutexGuard::map): unlocks when
// destroyed.  U is what it gives access to.
template <class U>
class MappedMutexGuard {
public:
    MappedMutexGuard(braid_mutex* m, U* v) : m_(m), v_(v) {}
    MappedMutexGuard(MappedMutexGuard&& o) noexcept : m_(std::exchange(o.m_, nullptr)), v_(o.v_) {}
    MappedMutexGuard& operator=(MappedMutexGuard&& o) noexcept {
        if (this != &o) {
            unlock();
            m_ = std::exchange(o.m_, nullptr);
            v_ = o.v_;
        }
        return *this;
    }
    MappedMutexGuard(const MappedMutexGuard&) = delete;
    ~MappedMutexGuard() { unlock(); }

    U& operator*() const { return *v_; }
    U* operator->() const { return v_; }
    // Narrows further.
    template <class F>
    auto map(F f) && {
        auto& part = f(*v_);
        return MappedMutexGuard<std::remove_reference_t<decltype(part)>>(std::exchange(m_, nullptr), &part);
    }
    void unlock() noexcept {
        if (m_) braid_mutex_unlock(std::exchange(m_, nullptr));
    }

private:
    braid_mutex* m_;
    U* v_;
};

// Access to the value while the lock is held; unlocks when destroyed.
template <class T>
class MutexGuard {
public:
    explicit MutexGuard(Mutex<T>* m) : m_(m) {}
    MutexGuard(MutexGuard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    MutexGuard& operator=(MutexGuard&& o) noexcept {
        if (this != &o) {
            unlock();
            m_ = std::exchange(o.m_, nullptr);
        }
        return *this;
    }
    MutexGuard(const MutexGuard&) = delete;
    ~MutexGuard() { unlock(); }

    T& operator*() const { return m_->value_; }
    T* operator->() const { return &m_->value_; }
    Mutex<T>& mutex() const { return *m_; }
    // A guard for a part of the value, holding this lock (Tokio's
    // MutexGuard::map): f(T&) returns a reference to the part.
    template <class F>
    auto map(F f) && {
        auto& part = f(m_->value_);
        using U = std::remove_reference_t<decltype(part)>;
        return MappedMutexGuard<U>(std::exchange(m_, nullptr)->m_, &part);
    }
    // The same when f(T&) returns a pointer to the part, or nullptr: then
    // std::nullopt, and this guard still holds the lock.
    template <class F>
    auto try_map(F f) && {
        auto* part = f(m_->value_);
        using U = std::remove_pointer_t<decltype(part)>;
        if (!part) return std::optional<MappedMutexGuard<U>>();
        return std::optional<MappedMutexGuard<U>>(MappedMutexGuard<U>(std::exchange(m_, nullptr)->m_, part));
    }
    // Unlocks now (the guard is empty afterwards).
    void unlock() noexcept {
        if (m_) braid_mutex_unlock(std::exchange(m_, nullptr)->m_);
    }

private:
    Mutex<T>* m_;
};

// A guard that also owns a reference to its mutex.
template <class T>
class OwnedMutexGuard {
public:
    OwnedMutexGuard(std::shared_ptr<Mutex<T>> m, MutexGuard<T> g) : m_(std::move(m)), g_(std::move(g)) {}
    OwnedMutexGuard(OwnedMutexGuard&&) noexcept = default;
    OwnedMutexGuard& operator=(OwnedMutexGuard&& o) noexcept {
        if (this != &o) {
            g_ = std::move(o.g_);
            m_ = std::move(o.m_);
        }
        return *this;
    }
    ~OwnedMutexGuard() { g_.unlock(); }  // before m_ lets the mutex go

    T& operator*() const { return *g_; }
    T* operator->() const { return g_.operator->(); }
    const std::shared_ptr<Mutex<T>>& mutex() const noexcept { return m_; }
    void unlock() noexcept { g_.unlock(); }

private:
    std::shared_ptr<Mutex<T>> m_;
    MutexGuard<T> g_;
};

template <class T>
class Mutex {
public:
    Mutex() : Mutex(std::in_place) {}
    explicit Mutex(T value) : Mutex(std::in_place, std::move(value)) {}
    template <class... A>
    explicit Mutex(std::in_place_t, A&&... a) : value_(std::forward<A>(a)...) {
        detail::check(braid_mutex_new(&m_), "Mutex");
    }
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;
    ~Mutex() { braid_mutex_free(m_); }

    class [[nodiscard]] Lock
        : public detail::WaitLeaf<Lock, braid_mutex, &braid_mutex_cancel_lock, &braid_mutex_unregister_lock> {
    public:
        using Base = detail::WaitLeaf<Lock, braid_mutex, &braid_mutex_cancel_lock, &braid_mutex_unregister_lock>;
        explicit Lock(Mutex* m) : Base(m->m_), m_(m) {}
        int poll(braid_wake_fn w, void* d) { return braid_mutex_poll_lock(this->h_, &this->w_, w, d); }
        MutexGuard<T> finish(int st) {
            detail::check(st, "Mutex::lock");
            return MutexGuard<T>(m_);
        }

    private:
        Mutex* m_;
    };
    // co_await: a MutexGuard<T>.
    Lock lock() { return Lock(this); }

    // The guard if the mutex is free now and nobody waits, else nullopt.
    std::optional<MutexGuard<T>> try_lock() {
        if (braid_mutex_try_lock(m_) != BRAID_OK) return std::nullopt;
        return MutexGuard<T>(this);
    }
    // Locks from a thread that is not a runtime worker, blocking it.
    MutexGuard<T> blocking_lock() {
        detail::check(braid_mutex_lock_blocking(m_, BRAID_WAIT_FOREVER), "Mutex::blocking_lock");
        return MutexGuard<T>(this);
    }
    // The value without locking: only when nobody else can reach the mutex.
    T& get_mut() noexcept { return value_; }
    // The value, moved out (Tokio's into_inner): the same condition.
    T into_inner() && { return std::move(value_); }

    braid_mutex* native_handle() const noexcept { return m_; }

private:
    friend class MutexGuard<T>;
    braid_mutex* m_ = nullptr;
    T value_;
};

namespace detail {
template <class T>
class [[nodiscard]] LockOwned {
public:
    explicit LockOwned(std::shared_ptr<Mutex<T>> m) : m_(std::move(m)), inner_(checked(m_)->lock()) {}
    bool await_ready() { return inner_.await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return inner_.await_suspend(h);
    }
    OwnedMutexGuard<T> await_resume() { return OwnedMutexGuard<T>(m_, inner_.await_resume()); }
    void unregister() noexcept { inner_.unregister(); }

private:
    static Mutex<T>* checked(const std::shared_ptr<Mutex<T>>& m) {
        if (!m) throw Error(BRAID_EINVAL, "lock_owned on a null mutex");
        return m.get();
    }
    std::shared_ptr<Mutex<T>> m_;
    typename Mutex<T>::Lock inner_;
};
}  // namespace detail

// co_await lock_owned(m): an OwnedMutexGuard<T> (keeps the mutex alive).
template <class T>
detail::LockOwned<T> lock_owned(std::shared_ptr<Mutex<T>> m) {
    return detail::LockOwned<T>(std::move(m));
}

// Without waiting: an OwnedMutexGuard<T> if m is free now and nobody waits,
// else std::nullopt (Tokio's try_lock_owned).
template <class T>
std::optional<OwnedMutexGuard<T>> try_lock_owned(std::shared_ptr<Mutex<T>> m) {
    if (!m) throw Error(BRAID_EINVAL, "try_lock_owned on a null mutex");
    auto g = m->try_lock();
    if (!g) return std::nullopt;
    return OwnedMutexGuard<T>(std::move(m), std::move(*g));
}

}  // namespace braid
