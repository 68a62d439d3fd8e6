// braid::task::block_in_place(f): runs blocking code inside a task without
// stalling the worker's other tasks (Tokio's task::block_in_place).
//
//   auto rows = braid::task::block_in_place([&] { return db.query(sql); });
//
// On a worker of a multi-thread runtime the worker's queued tasks are first
// handed to a stand-in thread, which runs them while f blocks this thread;
// the task goes on here afterwards.  Inside f the thread may block, and
// Handle::current().block_on(...) works.  Elsewhere (a blocking job, a plain
// thread) f simply runs.  On a current-thread runtime it throws
// braid::Error(BRAID_ENOTSUP): nobody else could run the other tasks.
#pragma once

#include <braid/detail/result.hpp>
#include <braid/error.hpp>
#include <braid/task.h>

#include <exception>
#include <type_traits>
#include <utility>

namespace braid::task {

template <class F>
auto block_in_place(F&& f) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    struct Call {
        F& f;
        detail::Result<R> result;
        static void run(void* p) {
            auto* c = static_cast<Call*>(p);
            try {
                if constexpr (std::is_void_v<R>) {
                    c->f();
                    c->result.set_value();
                } else {
                    c->result.set_value(c->f());
                }
            } catch (...) {
                c->result.set_exception(std::current_exception());
            }
        }
    } call{f, {}};
    detail::check(braid_block_in_place(&Call::run, &call), "task::block_in_place");
    return call.result.take();
}

}  // namespace braid::task
