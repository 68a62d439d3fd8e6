// tokio-stream 0.1.9, tests/stream_collect.rs: `collect()` drains a stream
// into a container; as a future it stays pending, woken by every item, until
// the stream ends.
//
// Strings: Tokio collects string items into a String by concatenating them;
// so does braid's collect<std::string>().
// Results: Tokio collects a stream of Result<T, E> into Result<Vec<T>, E>,
// stopping at the first Err.  braid streams fail by throwing, and a consumer
// rethrows at once (docs/streams.md); the *_result* cases use a stream that
// throws for an error item, as a braid stream of fallible items would.
//
// Gaps: none.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "support.hpp"

namespace conformance_stream_collect {

namespace bs = braid::stream;
using braid_test::PollByHand;

namespace {

braid::Runtime current_thread() { return braid::Runtime::builder().current_thread().build(); }

// Rust's Result<T, &str> as an item.
template <class T>
struct Result {
    std::optional<T> ok;
    std::string_view err;
    static Result Ok(T v) { return {std::move(v), {}}; }
    static Result Err(std::string_view e) { return {std::nullopt, e}; }
};

// A stream of results as a braid stream: the values, and the first error
// thrown (which ends it).
auto ok_or_throw() {
    return bs::map([]<class T>(Result<T> r) -> T {
        if (!r.ok) throw std::runtime_error(std::string(r.err));
        return std::move(*r.ok);
    });
}

}  // namespace

TEST_CASE("stream_collect.empty_unit") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        std::vector<std::monostate> units(3);
        auto iter = bs::iter(std::move(units));
        // collecting drains the stream it borrows
        auto collected = co_await (bs::by_ref(iter) | bs::collect());
        EXPECT(collected.size() == 3);
        auto rest = co_await iter.next();
        EXPECT(!rest);
    }());
}

TEST_CASE("stream_collect.empty_vec") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        std::vector<uint32_t> coll = co_await (bs::empty<uint32_t>() | bs::collect());
        EXPECT(coll.empty());
    }());
}

TEST_CASE("stream_collect.empty_box_slice") {
    // Box<[u32]>: a container other than the default one
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        std::deque<uint32_t> coll = co_await (bs::empty<uint32_t>() | bs::collect<std::deque<uint32_t>>());
        EXPECT(coll.empty());
    }());
}

TEST_CASE("stream_collect.empty_string") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        std::string coll = co_await (bs::empty<std::string_view>() | bs::collect<std::string>());
        EXPECT(coll.empty());
    }());
}

TEST_CASE("stream_collect.empty_result") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        std::vector<uint32_t> coll = co_await (bs::empty<Result<uint32_t>>() | ok_or_throw() | bs::collect());
        EXPECT(coll.empty());
    }());
}

TEST_CASE("stream_collect.collect_vec_items") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid_test::unbounded_channel_stream<int>();
        auto collect = braid_test::as_stream(std::move(rx) | bs::collect());
        PollByHand fut(collect);

        EXPECT(fut.poll_next().is_pending());

        EXPECT(!tx->send(1));
        EXPECT(fut.is_woken());
        EXPECT(fut.poll_next().is_pending());

        EXPECT(!tx->send(2));
        EXPECT(fut.is_woken());
        EXPECT(fut.poll_next().is_pending());

        tx.reset();
        EXPECT(fut.is_woken());
        auto coll = fut.poll_next();
        EXPECT((coll.ready && coll.item == std::vector<int>{1, 2}));
        co_return;
    }());
}

TEST_CASE("stream_collect.collect_string_items") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid_test::unbounded_channel_stream<std::string>();
        auto collect = braid_test::as_stream(std::move(rx) | bs::collect<std::string>());
        PollByHand fut(collect);

        EXPECT(fut.poll_next().is_pending());

        EXPECT(!tx->send("hello "));
        EXPECT(fut.is_woken());
        EXPECT(fut.poll_next().is_pending());

        EXPECT(!tx->send("world"));
        EXPECT(fut.is_woken());
        EXPECT(fut.poll_next().is_pending());

        tx.reset();
        EXPECT(fut.is_woken());
        auto coll = fut.poll_next();
        EXPECT(coll.ready && coll.item == "hello world");
        co_return;
    }());
}

TEST_CASE("stream_collect.collect_str_items") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid_test::unbounded_channel_stream<std::string_view>();
        auto collect = braid_test::as_stream(std::move(rx) | bs::collect<std::string>());
        PollByHand fut(collect);

        EXPECT(fut.poll_next().is_pending());

        EXPECT(!tx->send("hello "));
        EXPECT(fut.is_woken());
        EXPECT(fut.poll_next().is_pending());

        EXPECT(!tx->send("world"));
        EXPECT(fut.is_woken());
        EXPECT(fut.poll_next().is_pending());

        tx.reset();
        EXPECT(fut.is_woken());
        auto coll = fut.poll_next();
        EXPECT(coll.ready && coll.item == "hello world");
        co_return;
    }());
}

TEST_CASE("stream_collect.collect_results_ok") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        using R = Result<std::string_view>;
        auto [tx, rx] = braid_test::unbounded_channel_stream<R>();
        auto collect = braid_test::as_stream(std::move(rx) | ok_or_throw() | bs::collect<std::string>());
        PollByHand fut(collect);

        EXPECT(fut.poll_next().is_pending());

        EXPECT(!tx->send(R::Ok("hello ")));
        EXPECT(fut.is_woken());
        EXPECT(fut.poll_next().is_pending());

        EXPECT(!tx->send(R::Ok("world")));
        EXPECT(fut.is_woken());
        EXPECT(fut.poll_next().is_pending());

        tx.reset();
        EXPECT(fut.is_woken());
        auto coll = fut.poll_next();
        EXPECT(coll.ready && coll.item == "hello world");
        co_return;
    }());
}

TEST_CASE("stream_collect.collect_results_err") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        using R = Result<std::string_view>;
        auto [tx, rx] = braid_test::unbounded_channel_stream<R>();
        auto collect = braid_test::as_stream(std::move(rx) | ok_or_throw() | bs::collect<std::string>());
        PollByHand fut(collect);

        EXPECT(fut.poll_next().is_pending());

        EXPECT(!tx->send(R::Ok("hello ")));
        EXPECT(fut.is_woken());
        EXPECT(fut.poll_next().is_pending());

        // the error finishes the collection at once: the sender is still there
        EXPECT(!tx->send(R::Err("oh no")));
        EXPECT(fut.is_woken());
        std::string err;
        try {
            (void)fut.poll_next();
        } catch (const std::runtime_error& e) {
            err = e.what();
        }
        EXPECT(err == "oh no");
        co_return;
    }());
}

}  // namespace conformance_stream_collect
