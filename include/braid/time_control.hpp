// Controlling the clock of the calling task's runtime (Tokio's
// time::pause, time::resume and time::advance), for tests:
//
//   braid::time::pause();                          // the clock stands still
//   auto sleep = braid::spawn(braid::sleep(10s));  // never due by itself...
//   co_await braid::time::advance(10s);            // ...until time moves
//   braid::time::resume();                         // real time again
//
// A paused clock also moves by itself when every task waits on a timer
// (auto-advance, see Runtime::Builder::start_paused).  Both runtime
// flavours can be paused.  Each throws braid::Error(BRAID_EINVAL) outside a
// runtime, when pausing a paused clock, and when resuming or advancing a
// running one.
#pragma once

#include <braid/error.hpp>
#include <braid/runtime.h>
#include <braid/spawn.hpp>
#include <braid/task.hpp>

#include <chrono>

namespace braid::time {

// Freezes the runtime's clock where it stands.
inline void pause() { detail::check(braid_runtime_pause(braid_runtime_current()), "time::pause"); }

// Lets the frozen clock run again from where it stands (the time advanced
// meanwhile is kept).
inline void resume() { detail::check(braid_runtime_resume(braid_runtime_current()), "time::resume"); }

// Moves the frozen clock forward by `d`, fires the timers that became due,
// and yields once so the tasks they woke run before this one goes on.
inline Task<> advance(std::chrono::nanoseconds d) {
    detail::check(braid_runtime_advance(braid_runtime_current(), d.count()), "time::advance");
    co_await yield_now();
}

}  // namespace braid::time
