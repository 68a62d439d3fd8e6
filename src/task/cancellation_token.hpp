// Cancellation tokens (tokio-util's CancellationToken): cancel() is
// permanent, wakes every waiter and cancels every child token (children of
// children too); cancelling a child leaves its parent alone.  The tokens of
// one tree share one lock.
#pragma once

#include <braid/task.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#include "sync/wait_list.hpp"

namespace braid::detail {

class Core;

class CancellationToken {
public:
    static CancellationToken* make_root();
    // A child of this token (cancelled at once if this one is).
    CancellationToken* make_child();

    void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
    void unref();

    void cancel();
    bool is_cancelled() const { return cancelled_.load(std::memory_order_acquire); }

    // 0 once cancelled (frees *w); BRAID_PENDING after queueing/updating *w.
    // A NULL waker queues nothing.
    int poll_cancelled(Waiter** w, braid_wake_fn wake, void* data);
    void cancel_wait(Waiter** w);
    void unregister_wait(Waiter** w);  // keeps the waiter; forgets the waker
    // braid_token_on_cancel: calls cb(ud, BRAID_OK) on a worker of core
    // once this token is cancelled, or the cancel status when the
    // operation is aborted or its runtime shuts down first; holds a
    // reference meanwhile.  BRAID_OK, BRAID_ENOMEM, BRAID_ESHUTDOWN.
    int on_cancel(braid_task** out, Core* core, braid_callback cb, void* ud);

private:
    struct Tree {
        std::mutex mu;
        std::atomic<uint32_t> refs{1};
    };
    CancellationToken(Tree* tree, CancellationToken* parent) : tree_(tree), parent_(parent) {}
    void cancel_locked();

    std::atomic<uint32_t> refs_{1};
    std::atomic<bool> cancelled_{false};
    Tree* tree_;
    CancellationToken* parent_;            // holds a reference
    CancellationToken* first_child_ = nullptr;  // not owned: each child holds a reference to us
    CancellationToken* prev_sibling_ = nullptr;
    CancellationToken* next_sibling_ = nullptr;
    WaitList waiters_;
};

}  // namespace braid::detail
