// Cooperative budget (Tokio's "coop"): every poll of a task may complete at
// most kBudget operations that were ready at once.  When the budget is used
// up, an operation that would complete instead wakes the task and reports
// BRAID_PENDING, so the task yields and one busy task cannot starve the others
// on its worker.  Outside tasks the budget is unlimited.
#pragma once

#include <braid/task.h>

namespace braid::detail::coop {

inline constexpr int kBudget = 128;

// -1: not inside a task poll (unlimited).
int& budget();

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
    return false;
}

}  // namespace braid::detail::coop
