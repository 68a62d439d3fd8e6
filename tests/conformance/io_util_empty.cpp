// Conformance: tokio/tests/io_util_empty.rs (Tokio 1.24).  Both cases race a
// loop of reads from empty() against yield_now in a biased select: the loop
// ends only if the reads take the task's cooperative budget and yield once
// it is used up (without that the select never returns).
//
// Gaps: none.
//
// Not applicable: none.
#include <catch2/catch.hpp>
#include <braid/io/empty.hpp>

#include <string>

#include "support.hpp"

namespace conformance_io_util_empty {

TEST_CASE("io_util_empty.empty_read_is_cooperative") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto forever = []() -> braid::Task<> {
            for (;;) {
                char buf[4096];
                (void)co_await braid::io::empty().read(buf);
            }
        };
        auto r = co_await braid::select_biased(forever(), braid::yield_now());
        EXPECT(r.index() == 1);
    }());
}

TEST_CASE("io_util_empty.empty_buf_reads_are_cooperative") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto forever = []() -> braid::Task<> {
            for (;;) {
                std::string buf;
                braid::io::BufReader r(braid::io::empty());
                (void)co_await r.read_line(buf);
            }
        };
        auto r = co_await braid::select_biased(forever(), braid::yield_now());
        EXPECT(r.index() == 1);
    }());
}

}  // namespace conformance_io_util_empty
