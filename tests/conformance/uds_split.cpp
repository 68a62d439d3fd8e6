// Conformance: tokio/tests/uds_split.rs (Tokio 1.24), ported from what the
// case asserts.  #[tokio::test]: a current-thread runtime; try_join is
// braid::try_join.  Tokio's send_recv_all takes `dyn AsyncRead` /
// `dyn AsyncWrite`; here a template over braid's split halves.
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <string>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_uds_split {

using braid::net::UnixStream;

namespace {

// Writes `input`, shuts the write side down (the peer reads end of file),
// and reads everything the peer sends until its end of file.
template <class R, class W>
braid::Task<std::string> send_recv_all(R& read, W& write, std::string input) {
    co_await write.write_all(input);
    co_await write.shutdown();

    std::string output;
    co_await braid::io::read_to_end(read, output);
    co_return output;
}

}  // namespace

TEST_CASE("uds_split.split") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto [a, b] = UnixStream::pair();

        auto [a_read, a_write] = braid::io::split(a);
        auto [b_read, b_write] = braid::io::split(b);

        auto [a_response, b_response] =
            co_await braid::try_join(send_recv_all(a_read, a_write, "A"), send_recv_all(b_read, b_write, "B"));

        EXPECT(a_response == "B");
        EXPECT(b_response == "A");
    }());
}

}  // namespace conformance_uds_split
