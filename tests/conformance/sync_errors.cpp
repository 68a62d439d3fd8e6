// Conformance: tokio/tests/sync_errors.rs (Tokio 1.24).  Tokio checks that
// its channel errors implement std::error::Error + Send + Sync; in C++ an
// error is an exception type that can be thrown, caught as std::exception
// and carried to another thread.
//
// Gaps: none.
//
// Not applicable:
//   mpsc_error_bound - braid has no mpsc SendError to bound: a failed send is
//     an expected outcome and hands the value back as a value
//     (std::optional<T>, TrySendError<T>, SendTimeoutError<T>; docs/sync.md,
//     "Expected outcomes are values"), not an error type.
//   watch_error_bound - the same for watch::Sender::send (std::optional<T>).
#include <catch2/catch.hpp>

#include <exception>
#include <string>
#include <thread>
#include <type_traits>

#include "support.hpp"

namespace conformance_sync_errors {

TEST_CASE("sync_errors.oneshot_error_bound") {
    // RecvError (what receiving from a dropped sender throws) is an error
    // type: a braid::Error, a std::exception, copyable...
    static_assert(std::is_base_of_v<std::exception, braid::RecvError>);
    static_assert(std::is_base_of_v<braid::Error, braid::RecvError>);
    static_assert(std::is_nothrow_copy_constructible_v<braid::RecvError>);

    auto [tx, rx] = braid::oneshot::channel<int>();
    { auto gone = std::move(tx); }
    std::exception_ptr caught;
    try {
        (void)rx.blocking_recv();  // this thread is no runtime's: it may block
    } catch (const std::exception&) {
        caught = std::current_exception();
    }
    REQUIRE(caught);

    // ...that carries a code and a message, also to another thread.
    int code = 0;
    std::string what;
    std::thread([&] {
        try {
            std::rethrow_exception(caught);
        } catch (const braid::RecvError& e) {
            code = e.code();
            what = e.what();
        }
    }).join();
    REQUIRE(code == BRAID_ECLOSED);
    REQUIRE_FALSE(what.empty());
}

}  // namespace conformance_sync_errors
