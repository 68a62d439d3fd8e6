// braid::io::empty(): a reader always at end of file and a writer that
// takes every byte and keeps none (Tokio's tokio::io::empty()).
//
//   auto e = braid::io::empty();
//   co_await e.read(buf);            // 0
//   co_await e.write("dropped");     // 7
//
// Every read and write completes at once but takes a unit of the task's
// cooperative budget, as braid's other ready operations do: a loop of them
// yields to the other tasks when the budget is used up instead of holding
// its worker.  flush() and shutdown() are ready at once.
#pragma once

#include <braid/detail/context.hpp>
#include <braid/detail/unstable.hpp>
#include <braid/io/buffer.hpp>

#include <coroutine>
#include <cstddef>

namespace braid::io {

namespace detail {
// A value that is ready at once, within the task's cooperative budget:
// when the budget is used up the task yields first (it wakes itself and
// completes at its next poll).
class [[nodiscard]] BudgetedReady : public braid::detail::LeafAwaiter<BudgetedReady> {
public:
    explicit BudgetedReady(std::size_t n) : n_(n) {}
    bool ready_now() const { return true; }
    int poll(braid_wake_fn wake, void* data) {
        if (braid_coop_take()) return 0;
        wake(data);
        return BRAID_PENDING;
    }
    std::size_t finish(int) const { return n_; }
    void unregister() noexcept {}

private:
    std::size_t n_;
};
}  // namespace detail

class Empty {
public:
    // 0: end of file, always.
    detail::BudgetedReady read(MutableBuffer) { return detail::BudgetedReady(0); }
    // All of b, discarded.
    detail::BudgetedReady write(ConstBuffer b) { return detail::BudgetedReady(b.size); }
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }
};

inline Empty empty() { return {}; }

}  // namespace braid::io
