// Misuse of the sync primitives' C ABI is refused and changes nothing: an
// unlock or release that does not match how a lock is held (mutex, rwlock,
// semaphore), a send_reserved without a reservation (mpsc), a borrow_end
// without a borrow (watch).  Each case checks the error, then that the
// primitive still behaves as if the bad call had never been made.
#include <catch2/catch.hpp>
#include <braid/braid.h>

#include <cstdint>

#include "support.hpp"

namespace test_sync_misuse {

using braid_test::PolledWait;

TEST_CASE("sync_misuse.mutex: an unlock of a mutex nobody holds is refused") {
    braid_mutex* m = nullptr;
    REQUIRE(braid_mutex_new(&m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_EINVAL);  // never locked
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);    // still lockable, once
    REQUIRE(braid_mutex_try_lock(m) == BRAID_EAGAIN);
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    REQUIRE(braid_mutex_unlock(m) == BRAID_EINVAL);  // twice
    REQUIRE(braid_mutex_try_lock(m) == BRAID_OK);
    REQUIRE(braid_mutex_try_lock(m) == BRAID_EAGAIN);  // the refused unlock added nothing
    REQUIRE(braid_mutex_unlock(m) == BRAID_OK);
    braid_mutex_free(m);
}

TEST_CASE("sync_misuse.rwlock: a read unlock of a write-locked lock is refused and lets no reader in") {
    braid_rwlock* rw = nullptr;
    REQUIRE(braid_rwlock_new(&rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_EAGAIN);  // the writer is still alone
    REQUIRE(braid_rwlock_downgrade(rw) == BRAID_OK);    // still write-locked: it can downgrade
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);     // now readers may join
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);  // the downgraded one
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);    // nothing left over
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    braid_rwlock_free(rw);
}

TEST_CASE("sync_misuse.rwlock: write locks taken every way refuse a read unlock") {
    braid_rwlock* rw = nullptr;
    REQUIRE(braid_rwlock_new(&rw) == BRAID_OK);
    SECTION("blocking") { REQUIRE(braid_rwlock_write_blocking(rw, BRAID_WAIT_FOREVER) == BRAID_OK); }
    SECTION("polled, granted at once") {
        braid_waiter* w = nullptr;
        braid_test::CountingWaker waker;
        REQUIRE(braid_rwlock_poll_write(rw, &w, &braid_test::CountingWaker::wake, &waker) == BRAID_OK);
    }
    SECTION("polled, granted after a wait") {
        REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);
        PolledWait writer(rw, braid_rwlock_poll_write, braid_rwlock_cancel_write);
        REQUIRE(writer.poll() == BRAID_PENDING);
        REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);  // the reader leaves: handed to the writer
        REQUIRE(writer.is_woken());
        REQUIRE(writer.poll() == BRAID_OK);
    }
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_EAGAIN);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);
    braid_rwlock_free(rw);
}

TEST_CASE("sync_misuse.rwlock: every unlock that does not match how the lock is held is refused") {
    braid_rwlock* rw = nullptr;
    REQUIRE(braid_rwlock_new(&rw) == BRAID_OK);
    // Unlocked: nothing to release.
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_downgrade(rw) == BRAID_EINVAL);
    // Read-locked twice: no write unlock, no downgrade, two read unlocks.
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_downgrade(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_EAGAIN);  // both readers still in
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_EAGAIN);  // one still in
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_EINVAL);
    // Write-locked: one write unlock, no second, no downgrade after it.
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_downgrade(rw) == BRAID_EINVAL);
    // Downgraded: a read lock now, not a write lock.
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_downgrade(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_downgrade(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_EAGAIN);
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);
    // After all that, the lock is free and whole.
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_EAGAIN);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    braid_rwlock_free(rw);
}

TEST_CASE("sync_misuse.semaphore: a release beyond the maximum is refused and adds nothing") {
    const uint64_t max = BRAID_SEMAPHORE_MAX_PERMITS;
    braid_semaphore* sem = nullptr;
    REQUIRE(braid_semaphore_new(&sem, 2) == BRAID_OK);
    REQUIRE(braid_semaphore_release(sem, 0) == BRAID_OK);  // nothing to add
    REQUIRE(braid_semaphore_available_permits(sem) == 2);
    REQUIRE(braid_semaphore_release(sem, size_t(max)) == BRAID_ERANGE);  // 2 + max
    REQUIRE(braid_semaphore_release(sem, size_t(max) + 1) == BRAID_ERANGE);
    REQUIRE(braid_semaphore_available_permits(sem) == 2);
    REQUIRE(braid_semaphore_release(sem, size_t(max - 2)) == BRAID_OK);  // exactly the maximum
    REQUIRE(braid_semaphore_available_permits(sem) == max);
    REQUIRE(braid_semaphore_release(sem, 1) == BRAID_ERANGE);
    // Permits held count too: taking and giving back stays within the maximum.
    REQUIRE(braid_semaphore_try_acquire(sem, 10) == BRAID_OK);
    REQUIRE(braid_semaphore_release(sem, 11) == BRAID_ERANGE);
    REQUIRE(braid_semaphore_release(sem, 10) == BRAID_OK);
    REQUIRE(braid_semaphore_available_permits(sem) == max);
    // Closed: held permits can still come back, within the same rule.
    REQUIRE(braid_semaphore_try_acquire(sem, 1) == BRAID_OK);
    braid_semaphore_close(sem);
    REQUIRE(braid_semaphore_release(sem, 2) == BRAID_ERANGE);
    REQUIRE(braid_semaphore_release(sem, 1) == BRAID_OK);
    braid_semaphore_free(sem);
}

TEST_CASE("sync_misuse.mpsc: send_reserved without a reservation is refused and changes nothing") {
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 2, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    int v = 7;
    REQUIRE(braid_mpsc_send_reserved(tx, &v, sizeof v) == BRAID_EINVAL);  // nothing reserved
    REQUIRE(braid_mpsc_rx_len(rx) == 0);
    REQUIRE(braid_mpsc_tx_capacity(tx) == 2);
    // The channel is whole: two sends fill it, a third finds it full.
    int a = 1, b = 2, c = 3;
    REQUIRE(braid_mpsc_try_send(tx, &a, sizeof a) == BRAID_OK);
    REQUIRE(braid_mpsc_try_send(tx, &b, sizeof b) == BRAID_OK);
    REQUIRE(braid_mpsc_try_send(tx, &c, sizeof c) == BRAID_EAGAIN);
    REQUIRE(braid_mpsc_send_reserved(tx, &c, sizeof c) == BRAID_EINVAL);  // full and nothing reserved
    int out = 0;
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);
    REQUIRE(out == 1);
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);
    REQUIRE(out == 2);
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_EAGAIN);
    // A reservation allows exactly as many sends as it reserved.
    REQUIRE(braid_mpsc_try_reserve(tx, 2) == BRAID_OK);
    REQUIRE(braid_mpsc_send_reserved(tx, &a, sizeof a) == BRAID_OK);
    REQUIRE(braid_mpsc_send_reserved(tx, &b, sizeof b) == BRAID_OK);
    REQUIRE(braid_mpsc_send_reserved(tx, &c, sizeof c) == BRAID_EINVAL);
    // Released reservations are gone too.
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);
    REQUIRE(braid_mpsc_try_reserve(tx, 1) == BRAID_OK);
    REQUIRE(braid_mpsc_release_reserved(tx, 1) == BRAID_OK);
    REQUIRE(braid_mpsc_release_reserved(tx, 1) == BRAID_EINVAL);  // nothing reserved any more
    REQUIRE(braid_mpsc_send_reserved(tx, &c, sizeof c) == BRAID_EINVAL);
    REQUIRE(braid_mpsc_rx_len(rx) == 0);
    REQUIRE(braid_mpsc_tx_capacity(tx) == 2);
    // And the receiver still ends when the sender goes (no phantom value).
    braid_mpsc_tx_free(tx);
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_ECLOSED);
    braid_mpsc_rx_free(rx);
}

TEST_CASE("sync_misuse.mpsc: a reservation granted to a waiter counts once it is taken") {
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    REQUIRE(braid_mpsc_new(&tx, &rx, 1, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    int a = 1, b = 2, out = 0;
    REQUIRE(braid_mpsc_try_send(tx, &a, sizeof a) == BRAID_OK);
    {
        PolledWait reserve([tx](braid_waiter** w, braid_wake_fn f, void* d) { return braid_mpsc_poll_reserve(tx, 1, w, f, d); },
                           [tx](braid_waiter** w) { braid_mpsc_cancel_reserve(tx, w); });
        REQUIRE(reserve.poll() == BRAID_PENDING);
        REQUIRE(braid_mpsc_send_reserved(tx, &b, sizeof b) == BRAID_EINVAL);  // waiting is not reserved
        REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);      // room: granted to the waiter
        REQUIRE(reserve.is_woken());
        REQUIRE(braid_mpsc_send_reserved(tx, &b, sizeof b) == BRAID_EINVAL);  // granted, not yet taken
        REQUIRE(reserve.poll() == BRAID_OK);
    }
    REQUIRE(braid_mpsc_send_reserved(tx, &b, sizeof b) == BRAID_OK);
    REQUIRE(braid_mpsc_try_recv(rx, &out, sizeof out) == BRAID_OK);
    REQUIRE(out == 2);
    braid_mpsc_tx_free(tx);
    braid_mpsc_rx_free(rx);
}

TEST_CASE("sync_misuse.watch: a borrow_end without a borrow is refused, and the next send goes through") {
    braid_watch_tx* tx = nullptr;
    braid_watch_rx* rx = nullptr;
    int init = 1;
    REQUIRE(braid_watch_new(&tx, &rx, &init, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    const void* p = nullptr;
    REQUIRE(braid_watch_rx_borrow(rx, 1, &p, nullptr) == BRAID_OK);
    REQUIRE(braid_watch_rx_borrow_end(rx) == BRAID_OK);
    REQUIRE(braid_watch_rx_borrow_end(rx) == BRAID_EINVAL);  // unbalanced
    REQUIRE(braid_watch_tx_borrow_end(tx) == BRAID_EINVAL);  // the senders borrowed nothing
    int v = 2;
    REQUIRE(braid_watch_send(tx, &v, sizeof v) == BRAID_OK);  // would wait forever on a broken lock
    REQUIRE(braid_watch_rx_borrow(rx, 1, &p, nullptr) == BRAID_OK);
    REQUIRE(*static_cast<const int*>(p) == 2);
    REQUIRE(braid_watch_rx_borrow_end(rx) == BRAID_OK);
    REQUIRE(braid_watch_rx_borrow_end(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_watch_tx_borrow_end(nullptr) == BRAID_EINVAL);
    braid_watch_tx_free(tx);
    braid_watch_rx_free(rx);
}

TEST_CASE("sync_misuse.watch: each receiver ends only its own borrows, and the senders only theirs") {
    braid_watch_tx* tx = nullptr;
    braid_watch_rx* rx = nullptr;
    int init = 1;
    REQUIRE(braid_watch_new(&tx, &rx, &init, sizeof(int), alignof(int), nullptr, nullptr) == BRAID_OK);
    braid_watch_rx* other = nullptr;
    REQUIRE(braid_watch_rx_clone(&other, rx) == BRAID_OK);
    const void* p = nullptr;
    REQUIRE(braid_watch_rx_borrow(rx, 0, &p, nullptr) == BRAID_OK);
    REQUIRE(braid_watch_rx_borrow_end(other) == BRAID_EINVAL);  // rx's borrow is not other's
    REQUIRE(braid_watch_tx_borrow_end(tx) == BRAID_EINVAL);
    REQUIRE(braid_watch_rx_borrow_end(rx) == BRAID_OK);
    // A sender's borrow is the senders': a clone may end it.
    braid_watch_tx* tx2 = nullptr;
    REQUIRE(braid_watch_tx_clone(&tx2, tx) == BRAID_OK);
    REQUIRE(braid_watch_tx_borrow(tx, &p) == BRAID_OK);
    REQUIRE(braid_watch_rx_borrow_end(rx) == BRAID_EINVAL);
    REQUIRE(braid_watch_tx_borrow_end(tx2) == BRAID_OK);
    REQUIRE(braid_watch_tx_borrow_end(tx) == BRAID_EINVAL);
    // A receiver freed while it borrows ends its borrows: sends go on.
    REQUIRE(braid_watch_rx_borrow(other, 0, &p, nullptr) == BRAID_OK);
    REQUIRE(braid_watch_rx_borrow(other, 0, &p, nullptr) == BRAID_OK);
    braid_watch_rx_free(other);
    int v = 5;
    REQUIRE(braid_watch_send(tx, &v, sizeof v) == BRAID_OK);
    braid_watch_tx_free(tx2);
    braid_watch_tx_free(tx);
    braid_watch_rx_free(rx);
}

}  // namespace test_sync_misuse
