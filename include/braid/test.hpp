// Running a coroutine test body in one line (Tokio's #[tokio::test]): each
// call builds a fresh runtime, runs the body to completion on it with
// block_on, shuts the runtime down, and gives the body's value (or rethrows
// what escaped it).
//
//   TEST_CASE("echo") {
//       braid::test::run([]() -> braid::Task<> {
//           auto [a, b] = co_await connected_pair();
//           ...
//       });
//   }
//
//   // Paused time (start_paused): sleeps are instant, in order.
//   braid::test::run_paused([]() -> braid::Task<> {
//       co_await braid::sleep(1h);
//   });
//
// The body is a callable that returns a braid::Task (a coroutine lambda; it
// stays alive until the run ends, so its captures may be used), or a Task.
// run and run_paused use a current-thread runtime, as #[tokio::test] does;
// run_multi_thread(n, body) a multi-thread one with n workers (Tokio's
// flavor = "multi_thread", worker_threads = n).
#pragma once

#include <braid/runtime.hpp>
#include <braid/task.hpp>

#include <functional>
#include <type_traits>
#include <utility>

namespace braid::test {

namespace detail {
template <class B>
decltype(auto) run_on(Runtime& rt, B&& body) {
    if constexpr (std::is_invocable_v<B&>) {
        return rt.block_on(std::invoke(body));
    } else {
        return rt.block_on(std::forward<B>(body));
    }
}
}  // namespace detail

template <class B>
decltype(auto) run(B&& body) {
    Runtime rt = Runtime::builder().current_thread().build();
    return detail::run_on(rt, std::forward<B>(body));
}

template <class B>
decltype(auto) run_paused(B&& body) {
    Runtime rt = Runtime::builder().current_thread().start_paused().build();
    return detail::run_on(rt, std::forward<B>(body));
}

template <class B>
decltype(auto) run_multi_thread(int workers, B&& body) {
    Runtime rt = Runtime::builder().worker_threads(workers).build();
    return detail::run_on(rt, std::forward<B>(body));
}

}  // namespace braid::test
