// Operation sequences on a mutex, a read-write lock or a semaphore through
// the C ABI, checked against the permit contract (fuzz_model.hpp): try,
// poll (new waits and later polls, with and without a waker), cancel,
// unregister (the wait keeps its place and what it was granted, and is not
// woken), release/unlock (also more than is held: refused, nothing
// changes), close, and the free permits the semaphore reports.  A
// read-write lock also knows whether a writer holds it (rwlock.h): a read
// unlock while write-locked, and a write unlock or downgrade while not,
// are BRAID_EINVAL and change nothing.  Every wait the model says completed
// while its waker was registered must have been woken.
#include <braid/mutex.h>
#include <braid/rwlock.h>
#include <braid/semaphore.h>

#include "fuzz_model.hpp"

using braid_fuzz::CountingWaker;
using braid_fuzz::Input;
using braid_fuzz::PermitModel;

namespace {

enum Kind { kMutex, kRwLock, kSemaphore };
constexpr uint64_t kReads = BRAID_RWLOCK_MAX_READERS;
constexpr uint64_t kMax = BRAID_SEMAPHORE_MAX_PERMITS;

struct Lock {
    Kind kind;
    braid_mutex* m = nullptr;
    braid_rwlock* rw = nullptr;
    braid_semaphore* sem = nullptr;

    int try_acquire(uint64_t n) {
        switch (kind) {
            case kMutex: return braid_mutex_try_lock(m);
            case kRwLock: return n == 1 ? braid_rwlock_try_read(rw) : braid_rwlock_try_write(rw);
            default: return braid_semaphore_try_acquire(sem, size_t(n));
        }
    }
    int poll(uint64_t n, braid_waiter** w, braid_wake_fn f, void* d) {
        switch (kind) {
            case kMutex: return braid_mutex_poll_lock(m, w, f, d);
            case kRwLock: return n == 1 ? braid_rwlock_poll_read(rw, w, f, d) : braid_rwlock_poll_write(rw, w, f, d);
            default: return braid_semaphore_poll_acquire(sem, size_t(n), w, f, d);
        }
    }
    void cancel(uint64_t n, braid_waiter** w) {
        switch (kind) {
            case kMutex: braid_mutex_cancel_lock(m, w); break;
            case kRwLock: n == 1 ? braid_rwlock_cancel_read(rw, w) : braid_rwlock_cancel_write(rw, w); break;
            default: braid_semaphore_cancel_acquire(sem, w);
        }
    }
    void unregister(uint64_t n, braid_waiter** w) {
        switch (kind) {
            case kMutex: braid_mutex_unregister_lock(m, w); break;
            case kRwLock: n == 1 ? braid_rwlock_unregister_read(rw, w) : braid_rwlock_unregister_write(rw, w); break;
            default: braid_semaphore_unregister_acquire(sem, w);
        }
    }
    // Releases n permits the way the kind can (unlock, read/write unlock,
    // downgrade, release).
    int release(uint64_t n) {
        switch (kind) {
            case kMutex: return braid_mutex_unlock(m);
            case kRwLock:
                if (n == 1) return braid_rwlock_read_unlock(rw);
                if (n == kReads) return braid_rwlock_write_unlock(rw);
                return braid_rwlock_downgrade(rw);
            default: return braid_semaphore_release(sem, size_t(n));
        }
    }
};

struct Slot {
    braid_waiter* w = nullptr;
    bool busy = false;
    bool registered = false;  // its waker is registered (not unregistered since)
    int id = 0;
    uint64_t n = 0;
    CountingWaker waker;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    Input in(data, size);
    Lock lock{Kind(in.u8() % 3)};
    uint64_t limit = lock.kind == kMutex ? 1 : lock.kind == kRwLock ? kReads : kMax;
    uint64_t initial = limit;
    if (lock.kind == kSemaphore) {
        initial = in.flag() ? in.below(8) : in.size_edge(8);
        int rc = braid_semaphore_new(&lock.sem, size_t(initial));
        if (initial > kMax) {
            FUZZ_CHECK(rc == BRAID_ERANGE && lock.sem == nullptr);
            return 0;
        }
        FUZZ_CHECK(rc == BRAID_OK);
    } else if (lock.kind == kMutex) {
        FUZZ_CHECK(braid_mutex_new(&lock.m) == BRAID_OK);
    } else {
        FUZZ_CHECK(braid_rwlock_new(&lock.rw) == BRAID_OK);
    }
    PermitModel model(initial, limit);
    Slot slots[4];
    int next_id = 1;
    bool writer = false;  // rwlock: a write lock was acquired and not given up

    // The model's answer to a release of n permits (unlock, read/write
    // unlock, downgrade, release).
    auto model_release = [&](uint64_t n) -> int {
        if (n > kMax) return BRAID_ERANGE;
        if (lock.kind == kRwLock) {
            if ((n == 1) == writer) return BRAID_EINVAL;  // read unlock while write-locked, or the other way
            if (n == 1) return model.release(1) == BRAID_OK ? BRAID_OK : BRAID_EINVAL;
            writer = false;
            int rc = model.release(n);  // every permit was the writer's
            FUZZ_CHECK(rc == BRAID_OK, "model: a writer's permits refused");
            return BRAID_OK;
        }
        int rc = model.release(n);
        return lock.kind == kMutex && rc == BRAID_ERANGE ? BRAID_EINVAL : rc;
    };
    // A write acquire of the rwlock that returned BRAID_OK.
    auto acquired = [&](uint64_t n, int rc) {
        if (lock.kind == kRwLock && n == kReads && rc == BRAID_OK) writer = true;
    };

    // How many permits an operation asks for, per kind.
    auto amount = [&]() -> uint64_t {
        switch (lock.kind) {
            case kMutex: return 1;
            case kRwLock: {
                static constexpr uint64_t kAmounts[] = {1, kReads, kReads - 1};
                return kAmounts[in.below(3)];
            }
            default: return in.flag() ? in.below(6) : in.size_edge(6);
        }
    };

    while (!in.empty()) {
        Slot& s = slots[in.below(4)];
        switch (in.below(8)) {
            case 0: {  // try
                uint64_t n = amount();
                if (lock.kind == kRwLock && n == kReads - 1) n = kReads;
                int rc = lock.try_acquire(n);
                int want = n > kMax ? BRAID_ERANGE : model.try_acquire(n);
                FUZZ_CHECK(rc == want, "try_acquire(%llu): %d, model %d", (unsigned long long)n, rc, want);
                acquired(n, rc);
                break;
            }
            case 1:
            case 2: {  // poll: a new wait, or the next poll of one
                if (!s.busy) {
                    uint64_t n = amount();
                    if (lock.kind == kRwLock && n == kReads - 1) n = 1;
                    bool with_waker = lock.kind == kRwLock || in.u8() % 4 != 0;
                    int rc = lock.poll(n, &s.w, with_waker ? &CountingWaker::wake : nullptr, &s.waker);
                    int want;
                    if (!with_waker) want = BRAID_PENDING;  // a NULL waker withdraws: no attempt, nothing queued
                    else if (n > kMax) want = BRAID_ERANGE;
                    else want = model.poll_first(next_id, n);
                    FUZZ_CHECK(rc == want, "poll(%llu): %d, model %d", (unsigned long long)n, rc, want);
                    acquired(n, rc);
                    if (rc == BRAID_PENDING && with_waker) {
                        FUZZ_CHECK(s.w != nullptr);
                        s = Slot{s.w, true, true, next_id, n, CountingWaker{}};
                        ++next_id;
                    } else {
                        FUZZ_CHECK(s.w == nullptr);
                    }
                } else {
                    bool completed = model.completed(s.id);
                    FUZZ_CHECK(!completed || !s.registered || s.waker.calls > 0, "a completed wait was not woken");
                    s.waker = CountingWaker{};
                    int rc = lock.poll(s.n, &s.w, &CountingWaker::wake, &s.waker);
                    int want = model.poll_again(s.id);
                    FUZZ_CHECK(rc == want, "poll again: %d, model %d", rc, want);
                    acquired(s.n, rc);
                    s.registered = true;
                    if (rc != BRAID_PENDING) {
                        FUZZ_CHECK(s.w == nullptr);
                        s.busy = false;
                    }
                }
                break;
            }
            case 3: {  // cancel
                if (!s.busy) {
                    lock.cancel(s.n, &s.w);  // nothing queued: a no-op
                    break;
                }
                lock.cancel(s.n, &s.w);
                FUZZ_CHECK(s.w == nullptr);
                model.cancel(s.id);
                s.busy = false;
                break;
            }
            case 4:
            case 5: {  // release / unlock, held or not
                uint64_t n = amount();
                if (lock.kind == kSemaphore && in.u8() % 8 == 0) n = kMax - in.below(3);
                int rc = lock.release(n);
                int want = model_release(n);
                FUZZ_CHECK(rc == want, "release(%llu): %d, model %d (known %llu of %llu)", (unsigned long long)n, rc,
                           want, (unsigned long long)model.known(), (unsigned long long)limit);
                break;
            }
            case 6: {
                if (lock.kind == kSemaphore) {
                    braid_semaphore_close(lock.sem);
                    model.close();
                    FUZZ_CHECK(braid_semaphore_is_closed(lock.sem) == 1);
                }
                break;
            }
            default: {  // unregister: the wait keeps its place and its grant
                if (!s.busy) {
                    lock.unregister(s.n, &s.w);  // nothing queued: a no-op
                    FUZZ_CHECK(s.w == nullptr);
                    break;
                }
                lock.unregister(s.n, &s.w);
                FUZZ_CHECK(s.w != nullptr, "unregister dropped the wait");
                s.registered = false;
                s.waker = CountingWaker{};  // no call may come from now on
                break;
            }
        }
        if (lock.kind == kSemaphore) {
            size_t avail = braid_semaphore_available_permits(lock.sem);
            FUZZ_CHECK(avail == model.free() && avail <= kMax, "available %zu, model %llu", avail,
                       (unsigned long long)model.free());
        }
        FUZZ_CHECK(model.known() <= limit);
        for (Slot& t : slots)
            if (t.busy && t.registered && model.completed(t.id))
                FUZZ_CHECK(t.waker.calls > 0, "wait %d completed but not woken", t.id);
            else if (t.busy && !t.registered)
                FUZZ_CHECK(t.waker.calls == 0, "wait %d woken after unregister", t.id);
    }
    for (Slot& t : slots)
        if (t.busy) {
            lock.cancel(t.n, &t.w);
            model.cancel(t.id);
        }
    braid_mutex_free(lock.m);
    braid_rwlock_free(lock.rw);
    braid_semaphore_free(lock.sem);
    return 0;
}
