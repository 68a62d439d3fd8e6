// Cooperative budget (Tokio's "coop"): every poll of a task may complete at
// most kBudget operations that were ready at once.  When the budget is used
// up, an operation that would complete instead wakes the task and reports
// BRAID_PENDING, so the task yields and one busy task cannot starve the others
// on its worker.  Outside tasks the budget is unlimited.
#pragma once

#include <braid/task.h>

namespace braid::detail {
void count_budget_yield();
}

namespace braid::detail::coop {

inline constexpr int kBudget = 128;

// The calling thread's budget; -1: not inside a task poll (unlimited).
// Initial-exec TLS: every ready operation (each stream item) reads it, and
// this model makes that one %fs-relative access instead of a call into the
// dynamic loader (__tls_get_addr).
extern constinit thread_local int tl_budget [[gnu::tls_model("initial-exec")]];
inline int& budget() { return tl_budget; }

// RAII: a fresh budget for one poll.
class Scope {
public:
    Scope() : saved_(budget()) { budget() = kBudget; }
    ~Scope() { budget() = saved_; }
    Scope(const Scope&) = delete;

private:
    int saved_;
};

// Takes one unit; true when the operation may complete.  When the budget is
// exhausted it calls wake(data) (if given) and returns false: the caller then
// reports BRAID_PENDING with its state unchanged.
inline bool proceed(braid_wake_fn wake, void* data) {
    int& b = budget();
    if (b < 0) return true;
    if (b > 0) {
        --b;
        return true;
    }
    if (wake) wake(data);
    count_budget_yield();  // runtime/metrics.hpp
    return false;
}

// Gives back the unit a proceed() that returned true took, for an operation
// that then turned out not to be ready (Tokio's RestoreOnPending).
inline void refund() {
    int& b = budget();
    if (b >= 0) ++b;
}

}  // namespace braid::detail::coop
