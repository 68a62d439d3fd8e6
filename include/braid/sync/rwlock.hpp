// braid::RwLock<T>: an async read-write lock that owns its value.
//
//   braid::RwLock<std::map<std::string, std::string>> map;
//   { auto r = co_await map.read(); use(r->size()); }
//   { auto w = co_await map.write(); (*w)["key"] = "value"; }
//
// Many readers or one writer.  Fair and write-preferring: requests are
// served in FIFO order, so a waiting writer goes before the readers that
// came after it.  Guards may be held across co_await.  Cancelled waits give
// back whatever they had been granted (a writer that had collected part of
// the readers' share returns it).
#pragma once

#include <braid/error.hpp>
#include <braid/rwlock.h>
#include <braid/detail/unstable.hpp>
#include <braid/sync/wait_leaf.hpp>

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid {

template <class T>
class RwLock;

// Read and write guards narrowed to a part of the value (map): they unlock
// the same way when destroyed.  U is what they give access to.
template <class U, bool Write>
class MappedRwLockGuard {
public:
    MappedRwLockGuard(braid_rwlock* l, U* v) : l_(l), v_(v) {}
    MappedRwLockGuard(MappedRwLockGuard&& o) noexcept : l_(std::exchange(o.l_, nullptr)), v_(o.v_) {}
    MappedRwLockGuard& operator=(MappedRwLockGuard&& o) noexcept {
        if (this != &o) {
            unlock();
            l_ = std::exchange(o.l_, nullptr);
            v_ = o.v_;
        }
        return *this;
    }
    MappedRwLockGuard(const MappedRwLockGuard&) = delete;
    ~MappedRwLockGuard() { unlock(); }

    U& operator*() const { return *v_; }
    U* operator->() const { return v_; }
    template <class F>
    auto map(F f) && {
        auto& part = f(*v_);
        return MappedRwLockGuard<std::remove_reference_t<decltype(part)>, Write>(std::exchange(l_, nullptr), &part);
    }
    void unlock() noexcept {
        if (!l_) return;
        if constexpr (Write) braid_rwlock_write_unlock(std::exchange(l_, nullptr));
        else braid_rwlock_read_unlock(std::exchange(l_, nullptr));
    }

private:
    braid_rwlock* l_;
    U* v_;
};
template <class U>
using MappedRwLockReadGuard = MappedRwLockGuard<const U, false>;
template <class U>
using MappedRwLockWriteGuard = MappedRwLockGuard<U, true>;

template <class T>
class RwLockReadGuard {
public:
    explicit RwLockReadGuard(RwLock<T>* l) : l_(l) {}
    RwLockReadGuard(RwLockReadGuard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    RwLockReadGuard& operator=(RwLockReadGuard&& o) noexcept {
        if (this != &o) {
            unlock();
            l_ = std::exchange(o.l_, nullptr);
        }
        return *this;
    }
    RwLockReadGuard(const RwLockReadGuard&) = delete;
    ~RwLockReadGuard() { unlock(); }

    const T& operator*() const { return l_->value_; }
    const T* operator->() const { return &l_->value_; }
    // A read guard for a part of the value (Tokio's RwLockReadGuard::map):
    // f(const T&) returns a reference to it.
    template <class F>
    auto map(F f) && {
        auto& part = f(std::as_const(l_->value_));
        using U = std::remove_reference_t<decltype(part)>;
        return MappedRwLockGuard<U, false>(std::exchange(l_, nullptr)->l_, &part);
    }
    // The same when f returns a pointer or nullptr (then std::nullopt, and
    // this guard keeps the lock).
    template <class F>
    auto try_map(F f) && {
        auto* part = f(std::as_const(l_->value_));
        using U = std::remove_pointer_t<decltype(part)>;
        if (!part) return std::optional<MappedRwLockGuard<U, false>>();
        return std::optional<MappedRwLockGuard<U, false>>(
            MappedRwLockGuard<U, false>(std::exchange(l_, nullptr)->l_, part));
    }
    void unlock() noexcept {
        if (l_) braid_rwlock_read_unlock(std::exchange(l_, nullptr)->l_);
    }

private:
    RwLock<T>* l_;
};

template <class T>
class RwLockWriteGuard {
public:
    explicit RwLockWriteGuard(RwLock<T>* l) : l_(l) {}
    RwLockWriteGuard(RwLockWriteGuard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    RwLockWriteGuard& operator=(RwLockWriteGuard&& o) noexcept {
        if (this != &o) {
            unlock();
            l_ = std::exchange(o.l_, nullptr);
        }
        return *this;
    }
    RwLockWriteGuard(const RwLockWriteGuard&) = delete;
    ~RwLockWriteGuard() { unlock(); }

    T& operator*() const { return l_->value_; }
    T* operator->() const { return &l_->value_; }
    // A write guard for a part of the value (Tokio's RwLockWriteGuard::map).
    template <class F>
    auto map(F f) && {
        auto& part = f(l_->value_);
        using U = std::remove_reference_t<decltype(part)>;
        return MappedRwLockGuard<U, true>(std::exchange(l_, nullptr)->l_, &part);
    }
    template <class F>
    auto try_map(F f) && {
        auto* part = f(l_->value_);
        using U = std::remove_pointer_t<decltype(part)>;
        if (!part) return std::optional<MappedRwLockGuard<U, true>>();
        return std::optional<MappedRwLockGuard<U, true>>(MappedRwLockGuard<U, true>(std::exchange(l_, nullptr)->l_, part));
    }
    void unlock() noexcept {
        if (l_) braid_rwlock_write_unlock(std::exchange(l_, nullptr)->l_);
    }
    // Becomes a read guard without letting another writer in between.
    RwLockReadGuard<T> downgrade() && {
        RwLock<T>* l = std::exchange(l_, nullptr);
        if (!l) throw Error(BRAID_EINVAL, "downgrading an empty write guard");
        braid_rwlock_downgrade(l->l_);
        return RwLockReadGuard<T>(l);
    }

private:
    RwLock<T>* l_;
};

template <class T>
class RwLock {
public:
    static constexpr uint32_t MAX_READERS = BRAID_RWLOCK_MAX_READERS;

    RwLock() : RwLock(std::in_place) {}
    explicit RwLock(T value) : RwLock(std::in_place, std::move(value)) {}
    template <class... A>
    explicit RwLock(std::in_place_t, A&&... a) : value_(std::forward<A>(a)...) {
        detail::check(braid_rwlock_new(&l_), "RwLock");
    }
    // A lock that admits at most max_readers readers at once (1 ..
    // MAX_READERS; Tokio's with_max_readers); more wait.
    static RwLock with_max_readers(T value, uint32_t max_readers) {
        return RwLock(MaxReaders{max_readers}, std::move(value));
    }
    RwLock(const RwLock&) = delete;
    RwLock& operator=(const RwLock&) = delete;
    ~RwLock() { braid_rwlock_free(l_); }

    class [[nodiscard]] Read
        : public detail::WaitLeaf<Read, braid_rwlock, &braid_rwlock_cancel_read, &braid_rwlock_unregister_read> {
    public:
        using Base = detail::WaitLeaf<Read, braid_rwlock, &braid_rwlock_cancel_read, &braid_rwlock_unregister_read>;
        explicit Read(RwLock* l) : Base(l->l_), l_(l) {}
        int poll(braid_wake_fn w, void* d) { return braid_rwlock_poll_read(this->h_, &this->w_, w, d); }
        RwLockReadGuard<T> finish(int st) {
            detail::check(st, "RwLock::read");
            return RwLockReadGuard<T>(l_);
        }

    private:
        RwLock* l_;
    };
    class [[nodiscard]] Write
        : public detail::WaitLeaf<Write, braid_rwlock, &braid_rwlock_cancel_write, &braid_rwlock_unregister_write> {
    public:
        using Base = detail::WaitLeaf<Write, braid_rwlock, &braid_rwlock_cancel_write, &braid_rwlock_unregister_write>;
        explicit Write(RwLock* l) : Base(l->l_), l_(l) {}
        int poll(braid_wake_fn w, void* d) { return braid_rwlock_poll_write(this->h_, &this->w_, w, d); }
        RwLockWriteGuard<T> finish(int st) {
            detail::check(st, "RwLock::write");
            return RwLockWriteGuard<T>(l_);
        }

    private:
        RwLock* l_;
    };

    Read read() { return Read(this); }
    Write write() { return Write(this); }
    std::optional<RwLockReadGuard<T>> try_read() {
        if (braid_rwlock_try_read(l_) != BRAID_OK) return std::nullopt;
        return RwLockReadGuard<T>(this);
    }
    std::optional<RwLockWriteGuard<T>> try_write() {
        if (braid_rwlock_try_write(l_) != BRAID_OK) return std::nullopt;
        return RwLockWriteGuard<T>(this);
    }
    // From threads that are not runtime workers, blocking them.
    RwLockReadGuard<T> blocking_read() {
        detail::check(braid_rwlock_read_blocking(l_, BRAID_WAIT_FOREVER), "RwLock::blocking_read");
        return RwLockReadGuard<T>(this);
    }
    RwLockWriteGuard<T> blocking_write() {
        detail::check(braid_rwlock_write_blocking(l_, BRAID_WAIT_FOREVER), "RwLock::blocking_write");
        return RwLockWriteGuard<T>(this);
    }
    // The value without locking: only when nobody else can reach the lock.
    T& get_mut() noexcept { return value_; }
    // The value, moved out (Tokio's into_inner): the same condition.
    T into_inner() && { return std::move(value_); }

    braid_rwlock* native_handle() const noexcept { return l_; }

private:
    struct MaxReaders {
        uint32_t n;
    };
    RwLock(MaxReaders m, T value) : value_(std::move(value)) {
        detail::check(braid_rwlock_new_with_max_readers(&l_, m.n), "RwLock::with_max_readers");
    }
    friend class RwLockReadGuard<T>;
    friend class RwLockWriteGuard<T>;
    braid_rwlock* l_ = nullptr;
    T value_;
};

// Guards that keep their lock alive.
template <class T>
class OwnedRwLockReadGuard {
public:
    OwnedRwLockReadGuard(std::shared_ptr<RwLock<T>> l, RwLockReadGuard<T> g) : l_(std::move(l)), g_(std::move(g)) {}
    OwnedRwLockReadGuard(OwnedRwLockReadGuard&&) noexcept = default;
    ~OwnedRwLockReadGuard() { g_.unlock(); }
    const T& operator*() const { return *g_; }
    const T* operator->() const { return g_.operator->(); }

private:
    std::shared_ptr<RwLock<T>> l_;
    RwLockReadGuard<T> g_;
};

template <class T>
class OwnedRwLockWriteGuard {
public:
    OwnedRwLockWriteGuard(std::shared_ptr<RwLock<T>> l, RwLockWriteGuard<T> g) : l_(std::move(l)), g_(std::move(g)) {}
    OwnedRwLockWriteGuard(OwnedRwLockWriteGuard&&) noexcept = default;
    ~OwnedRwLockWriteGuard() { g_.unlock(); }
    T& operator*() const { return *g_; }
    T* operator->() const { return g_.operator->(); }

private:
    std::shared_ptr<RwLock<T>> l_;
    RwLockWriteGuard<T> g_;
};

namespace detail {
template <class T, class Inner, class Guard>
class [[nodiscard]] RwOwned {
public:
    RwOwned(std::shared_ptr<RwLock<T>> l, Inner (RwLock<T>::*op)())
        : l_(std::move(l)), inner_((checked(l_)->*op)()) {}
    bool await_ready() { return inner_.await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return inner_.await_suspend(h);
    }
    Guard await_resume() { return Guard(l_, inner_.await_resume()); }
    void unregister() noexcept { inner_.unregister(); }

private:
    static RwLock<T>* checked(const std::shared_ptr<RwLock<T>>& l) {
        if (!l) throw Error(BRAID_EINVAL, "owned guard of a null RwLock");
        return l.get();
    }
    std::shared_ptr<RwLock<T>> l_;
    Inner inner_;
};
}  // namespace detail

// co_await read_owned(l) / write_owned(l): guards that keep the lock alive.
template <class T>
auto read_owned(std::shared_ptr<RwLock<T>> l) {
    return detail::RwOwned<T, typename RwLock<T>::Read, OwnedRwLockReadGuard<T>>(std::move(l), &RwLock<T>::read);
}
template <class T>
auto write_owned(std::shared_ptr<RwLock<T>> l) {
    return detail::RwOwned<T, typename RwLock<T>::Write, OwnedRwLockWriteGuard<T>>(std::move(l), &RwLock<T>::write);
}

}  // namespace braid
