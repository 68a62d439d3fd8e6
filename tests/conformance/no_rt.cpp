// Tokio 1.24, tests/no_rt.rs: timers and I/O used outside any runtime.
// Tokio panics ("there is no reactor running"); braid throws braid::Error
// (BRAID_EINVAL) from the call that needs a runtime.  Tokio drives the
// futures with another executor's block_on; here they are polled by hand on
// the test's own thread (braid_test::PollByHand), which no runtime owns.
#include <catch2/catch.hpp>

#include "support.hpp"

namespace conformance_no_rt {

using namespace std::chrono_literals;
using braid::net::TcpListener;
using braid::net::TcpStream;

TEST_CASE("no_rt.timeout_panics_when_no_tokio_context") {
    auto [tx, rx] = braid::oneshot::channel<int>();
    auto s = braid_test::as_stream(braid::timeout(10ms, std::move(rx)));
    braid_test::PollByHand fut(s);
    int code = braid_test::error_code_of([&] { (void)fut.poll_next(); });
    REQUIRE(code == BRAID_EINVAL);
}

TEST_CASE("no_rt.panics_when_no_reactor") {
    // A plain listening socket to connect to (no runtime needed for it).
    auto rt = braid::Runtime::builder().current_thread().build();
    auto [srv, addr] = rt.block_on([]() -> braid::Task<std::pair<TcpListener, braid::net::SocketAddr>> {
        auto l = TcpListener::bind("127.0.0.1:0");
        auto a = l.local_addr();
        co_return std::make_pair(std::move(l), a);
    }());

    auto s = braid_test::as_stream(TcpStream::connect(addr));
    braid_test::PollByHand fut(s);
    int code = braid_test::error_code_of([&] { (void)fut.poll_next(); });
    REQUIRE(code == BRAID_EINVAL);
}

TEST_CASE("no_rt.io_panics_when_no_tokio_context") {
    // Tokio registers a std listener (TcpListener::from_std); braid's
    // listeners are made by bind, which needs the calling thread's runtime.
    int code = braid_test::error_code_of([] { (void)TcpListener::bind("127.0.0.1:0"); });
    REQUIRE(code == BRAID_EINVAL);
}

}  // namespace conformance_no_rt
