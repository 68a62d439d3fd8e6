// braid::Barrier: n tasks wait until all n have arrived.
//
//   braid::Barrier b(3);
//   auto r = co_await b.wait();   // in each of 3 tasks
//   if (r.is_leader()) ...        // exactly one of them
//
// The barrier can be reused: the next n arrivals form the next round.  A
// wait cancelled before its round completes no longer counts as arrived.
#pragma once

#include <braid/barrier.h>
#include <braid/detail/unstable.hpp>
#include <braid/error.hpp>
#include <braid/sync/wait_leaf.hpp>

#include <cstddef>

namespace braid {

class BarrierWaitResult {
public:
    explicit BarrierWaitResult(bool leader) : leader_(leader) {}
    // True for exactly one task per round: the one whose arrival completed it.
    bool is_leader() const noexcept { return leader_; }

private:
    bool leader_;
};

class Barrier {
public:
    // n = 0 behaves as 1.
    explicit Barrier(std::size_t n) { detail::check(braid_barrier_new(&b_, n), "Barrier"); }
    Barrier(const Barrier&) = delete;
    Barrier& operator=(const Barrier&) = delete;
    ~Barrier() { braid_barrier_free(b_); }

    class [[nodiscard]] Wait
        : public detail::WaitLeaf<Wait, braid_barrier, &braid_barrier_cancel_wait, &braid_barrier_unregister_wait> {
    public:
        using Base = detail::WaitLeaf<Wait, braid_barrier, &braid_barrier_cancel_wait, &braid_barrier_unregister_wait>;
        explicit Wait(braid_barrier* b) : Base(b) {}
        int poll(braid_wake_fn w, void* d) { return braid_barrier_poll_wait(this->h_, &this->w_, w, d); }
        BarrierWaitResult finish(int st) {
            detail::check(st, "Barrier::wait");
            return BarrierWaitResult(st == BRAID_BARRIER_LEADER);
        }
    };
    Wait wait() { return Wait(b_); }
    // From a thread that is not a runtime worker.
    BarrierWaitResult blocking_wait() {
        int st = detail::check(braid_barrier_wait_blocking(b_, BRAID_WAIT_FOREVER), "Barrier::blocking_wait");
        return BarrierWaitResult(st == BRAID_BARRIER_LEADER);
    }

    braid_barrier* native_handle() const noexcept { return b_; }

private:
    braid_barrier* b_ = nullptr;
};

}  // namespace braid
