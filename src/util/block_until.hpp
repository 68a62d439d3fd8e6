// Blocking waits for threads that are not runtime workers: drives a poll
// function (0 / BRAID_PENDING / error, taking a waker) with a waker that
// signals a condition variable on this thread's stack.
#pragma once

#include <braid/error.h>
#include <braid/task.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace braid::detail {

// Polls `poll(wake, data)` until it returns something other than
// BRAID_PENDING, sleeping in between.  timeout_ms as poll(2): negative (BRAID_WAIT_FOREVER) no
// limit, 0 one attempt without sleeping, > 0 milliseconds.  Before
// returning, `unregister()` removes any registration of the waker (it lives
// on this stack).  Returns the result, or BRAID_ETIMEDOUT (nothing consumed).
template <class Poll, class Unregister>
int block_until(Poll&& poll, Unregister&& unregister, int64_t timeout_ms) {
    struct Waiter {
        std::mutex mu;
        std::condition_variable cv;
        bool woken = false;
        static void wake(void* p) {
            auto* w = static_cast<Waiter*>(p);
            std::lock_guard<std::mutex> g(w->mu);
            w->woken = true;
            w->cv.notify_all();
        }
    } w;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : 0);
    int rc;
    for (;;) {
        rc = poll(&Waiter::wake, &w);
        if (rc != BRAID_PENDING) break;
        if (timeout_ms == 0) {
            rc = BRAID_ETIMEDOUT;
            break;
        }
        std::unique_lock<std::mutex> lk(w.mu);
        if (timeout_ms < 0) {
            w.cv.wait(lk, [&] { return w.woken; });
        } else if (!w.cv.wait_until(lk, deadline, [&] { return w.woken; })) {
            lk.unlock();
            rc = BRAID_ETIMEDOUT;
            break;
        }
        w.woken = false;
    }
    unregister();
    return rc;
}

}  // namespace braid::detail
