// Work deferred to the end of the task poll running on this thread.
//
// An operation that would otherwise do something shared (an atomic
// read-modify-write other cores see) on every call, where once per poll
// is as good, defers it here: the mpsc receiver gives the slots it emptied
// back to the senders once per poll of its task instead of once per
// message.  The deferred work runs on this thread, exactly once:
//   - when the poll returns (Task::run, before the task is queued again or
//     goes idle, so a wake the work gives its own task is not lost);
//   - when a nested poll starts (a local set's task inside run_until): the
//     outer poll's work runs first, so deferred work never waits for
//     another task's poll;
//   - before block_in_place runs its blocking code, which is part of the
//     poll but may take any time: nothing is deferred while it runs.
// So deferred work waits at most for the rest of one poll, which a task
// keeps short (a poll that blocks its worker delays it as it delays
// everything else on that worker).
//
// One slot per thread: defer() refuses when the slot holds other work or
// when no task poll runs here (a plain thread, block_in_place's code);
// the caller then does the work at once.  The work must not throw.
#pragma once

#include <utility>

namespace braid::detail::poll_end {

using Fn = void (*)(void*) noexcept;

struct Slot {
    Fn fn = nullptr;
    void* arg = nullptr;
    bool open = false;  // a task poll runs on this thread and may defer
};

// Initial-exec TLS, as coop's budget: read on every operation that defers.
extern constinit thread_local Slot tl_slot [[gnu::tls_model("initial-exec")]];

// fn(arg) is deferred on this thread and has not run yet.
inline bool pending(Fn fn, const void* arg) { return tl_slot.fn == fn && tl_slot.arg == arg; }

// Defers fn(arg) to the end of this thread's poll: true when it will run
// then; false (nothing deferred) when it cannot be.
inline bool defer(Fn fn, void* arg) {
    if (!tl_slot.open || tl_slot.fn) return false;
    tl_slot.fn = fn;
    tl_slot.arg = arg;
    return true;
}

// Runs what is deferred on this thread, if anything.
inline void run() {
    if (Fn fn = tl_slot.fn) {
        void* arg = std::exchange(tl_slot.arg, nullptr);
        tl_slot.fn = nullptr;
        fn(arg);
    }
}

// RAII for one task poll (Task::run): runs an outer poll's work first,
// opens the slot, and runs this poll's work when it ends.
class Scope {
public:
    Scope() {
        run();
        saved_ = std::exchange(tl_slot.open, true);
    }
    ~Scope() {
        run();
        tl_slot.open = saved_;
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

private:
    bool saved_;
};

// RAII for code that runs inside a poll but may block (block_in_place):
// runs what is deferred and closes the slot meanwhile.
class Closed {
public:
    Closed() {
        run();
        saved_ = std::exchange(tl_slot.open, false);
    }
    ~Closed() { tl_slot.open = saved_; }
    Closed(const Closed&) = delete;
    Closed& operator=(const Closed&) = delete;

private:
    bool saved_;
};

}  // namespace braid::detail::poll_end
