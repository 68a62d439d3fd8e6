// Conformance: tokio/tests/io_write_int.rs (Tokio 1.24), ported from what
// each case asserts.  A writer that takes 0 bytes makes braid's integer
// writers throw IoError(BRAID_EPIPE) (Tokio: ErrorKind::WriteZero).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <coroutine>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_io_write_int {

TEST_CASE("io_write_int.write_int_should_err_if_write_count_0") {
    struct Wr {
        auto write(braid::io::ConstBuffer) {
            return braid_test::poll_fn<std::size_t>([](braid_wake_fn, void*, std::size_t& n) { return n = 0, 0; });
        }
        std::suspend_never flush() { return {}; }
        std::suspend_never shutdown() { return {}; }
    };
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        Wr wr;
        // should be ok just to test these 2, other cases actually expanded by same macro.
        EXPECT(co_await braid_test::code_of(braid::io::write_i8(wr, 0)) == BRAID_EPIPE);
        EXPECT(co_await braid_test::code_of(braid::io::write_i32(wr, 12)) == BRAID_EPIPE);
    }());
}

}  // namespace conformance_io_write_int
