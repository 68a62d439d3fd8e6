// async-stream 0.3.4, tests/{stream,try_stream,for_await,spans_preserved}.rs:
// the `stream!` and `try_stream!` macros, whose counterpart in braid is an
// async generator, a coroutine returning braid::Stream<T> (docs/streams.md).
// `yield v` is `co_yield v`; a try_stream's `Err(e)?` is a throw, which
// next() rethrows and after which the stream has ended.
//
// Not applicable:
//   test (stream.rs): trybuild compile-fail checks of the macro's misuse
//     (yield in a closure, in a nested fn, a bad yield expression); the
//     C++ compiler rejects co_yield outside a coroutine body by itself
//   spans_preserved: the macro keeping source spans (line!() in the body);
//     no macro, the body is the function's own code
//   convert_err: `?` converting the error type through From; C++ exceptions
//     are caught by type, nothing converts them
//   multi_try: the macro accepting `??` (nested Results); no `?` in C++
//   issue_65 (not a test): the macro accepting `yield Err(())?`
// (`test` below is for_await.rs's.)
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "support.hpp"

namespace conformance_async_stream {

namespace bs = braid::stream;

namespace {

braid::Runtime current_thread() { return braid::Runtime::builder().current_thread().build(); }

// What a stream gave until it ended: its items, then what it threw (if it
// did), as a try_stream's Vec<Result<T, E>> would show it.
template <class T>
struct Outcome {
    std::vector<T> items;
    std::string error;  // empty: no error
};
template <class S>
braid::Task<Outcome<bs::item_t<S>>> drain(S& s) {
    Outcome<bs::item_t<S>> out;
    for (;;) {
        std::optional<bs::item_t<S>> v;
        try {
            v = co_await s.next();
        } catch (const std::runtime_error& e) {
            out.error = e.what();
        }
        if (!out.error.empty()) {
            // the stream has ended after the error
            auto after = co_await s.next();
            EXPECT(!after);
            break;
        }
        if (!v) break;
        out.items.push_back(std::move(*v));
    }
    co_return out;
}

}  // namespace

// ---- for_await.rs ----------------------------------------------------------------

namespace {
braid::Stream<std::string_view> hello_world() {
    co_yield "hello";
    co_yield "world";
}
braid::Stream<std::string> exclaimed(braid::Stream<std::string_view> s) {
    while (auto x = co_await s.next()) co_yield std::string(*x) + "!";
}
}  // namespace

TEST_CASE("async_stream.test") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        std::vector<std::string> values = co_await (exclaimed(hello_world()) | bs::collect());
        EXPECT(values.size() == 2);
        EXPECT(values[0] == "hello!");
        EXPECT(values[1] == "world!");
    }());
}

// ---- stream.rs -------------------------------------------------------------------

TEST_CASE("async_stream.noop_stream") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto s = []() -> braid::Stream<int> { co_return; }();
        while (auto v = co_await s.next()) EXPECT(!"unreachable");
    }());
}

TEST_CASE("async_stream.empty_stream") {
    auto rt = current_thread();
    bool ran = rt.block_on([]() -> braid::Task<bool> {
        bool ran = false;
        {
            auto s = [](bool* r) -> braid::Stream<int> {
                *r = true;
                co_return;
            }(&ran);
            while (auto v = co_await s.next()) EXPECT(!"unreachable");
        }
        co_return ran;
    }());
    REQUIRE(ran);
}

TEST_CASE("async_stream.yield_single_value") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto s = []() -> braid::Stream<std::string_view> { co_yield "hello"; }();
        std::vector<std::string_view> values = co_await (std::move(s) | bs::collect());
        EXPECT(values.size() == 1);
        EXPECT(values[0] == "hello");
    }());
}

TEST_CASE("async_stream.fused") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto s = []() -> braid::Stream<std::string_view> { co_yield "hello"; }();

        EXPECT(!s.done());  // is_terminated
        auto v = co_await s.next();
        EXPECT(v == "hello");
        v = co_await s.next();
        EXPECT(!v);

        EXPECT(s.done());
        // the end from now on
        v = co_await s.next();
        EXPECT(!v);
    }());
}

TEST_CASE("async_stream.yield_multi_value") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto s = []() -> braid::Stream<std::string_view> {
            co_yield "hello";
            co_yield "world";
            co_yield "dizzy";
        }();
        std::vector<std::string_view> values = co_await (std::move(s) | bs::collect());
        EXPECT(values.size() == 3);
        EXPECT(values[0] == "hello");
        EXPECT(values[1] == "world");
        EXPECT(values[2] == "dizzy");
    }());
}

namespace {
braid::Task<> do_stuff_async() { co_return; }
braid::Task<> more_async_work() { co_return; }
}  // namespace

TEST_CASE("async_stream.unit_yield_in_select") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto s = []() -> braid::Stream<std::monostate> {
            // a yield in the branch that won
            auto r = co_await braid::select(do_stuff_async());
            if (r.index() == 0) co_yield std::monostate{};
        }();
        std::vector<std::monostate> values = co_await (std::move(s) | bs::collect());
        EXPECT(values.size() == 1);
    }());
}

TEST_CASE("async_stream.yield_with_select") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto s = []() -> braid::Stream<std::string_view> {
            auto r = co_await braid::select(do_stuff_async(), more_async_work());
            if (r.index() == 0) co_yield "hey";
            else co_yield "hey";
        }();
        std::vector<std::string_view> values = co_await (std::move(s) | bs::collect());
        EXPECT(values == std::vector<std::string_view>{"hey"});
    }());
}

namespace {
braid::Stream<uint32_t> build_stream() {
    co_yield 1;
    co_yield 2;
    co_yield 3;
}
}  // namespace

TEST_CASE("async_stream.return_stream") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        std::vector<uint32_t> values = co_await (build_stream() | bs::collect());
        EXPECT((values == std::vector<uint32_t>{1, 2, 3}));
    }());
}

TEST_CASE("async_stream.consume_channel") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto [tx, rx] = braid::mpsc::channel<int>(10);
        auto s = [](braid::mpsc::Receiver<int> rx) -> braid::Stream<int> {
            while (auto v = co_await rx.recv()) co_yield *v;
        }(std::move(rx));

        for (int i = 0; i < 3; ++i) {
            int code = co_await braid_test::code_of(tx.send(i));
            EXPECT(code == 0);
            auto v = co_await s.next();
            EXPECT(v == i);
        }

        { auto gone = std::move(tx); }
        auto v = co_await s.next();
        EXPECT(!v);
    }());
}

namespace {
struct Data {
    std::string s;
    // borrows *this: the stream must not outlive it
    braid::Stream<std::string_view> stream() const { co_yield std::string_view(s); }
};
}  // namespace

TEST_CASE("async_stream.borrow_self") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        Data data{"hello"};
        auto s = data.stream();
        auto v = co_await s.next();
        EXPECT(v == "hello");
    }());
}

TEST_CASE("async_stream.stream_in_stream") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        auto s = []() -> braid::Stream<int> {
            auto inner = []() -> braid::Stream<int> {
                for (int i = 0; i < 3; ++i) co_yield i;
            }();
            while (auto v = co_await inner.next()) co_yield *v;
        }();
        std::vector<int> values = co_await (std::move(s) | bs::collect());
        EXPECT(values.size() == 3);
    }());
}

TEST_CASE("async_stream.yield_non_unpin_value") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        // the items are awaitables (async blocks), run by buffered
        auto s = []() -> braid::Stream<braid::Task<int>> {
            for (int i = 0; i < 3; ++i) co_yield [](int i) -> braid::Task<int> { co_return i; }(i);
        }();
        std::vector<int> values = co_await (std::move(s) | bs::buffered(1) | bs::collect());
        EXPECT((values == std::vector<int>{0, 1, 2}));
    }());
}

TEST_CASE("async_stream.inner_try_stream") {
    // a generator whose select branch builds and polls a fallible generator;
    // building the outer one runs nothing (it is never polled)
    bool ran = false;
    {
        auto s = [](bool* ran) -> braid::Stream<std::monostate> {
            *ran = true;
            auto r = co_await braid::select(do_stuff_async());
            if (r.index() == 0) {
                auto another_s = []() -> braid::Stream<std::monostate> { co_yield std::monostate{}; }();
                auto v = co_await another_s.next();
                (void)v;
            }
            co_yield std::monostate{};
        }(&ran);
    }
    REQUIRE(!ran);
}

// ---- try_stream.rs ---------------------------------------------------------------

TEST_CASE("async_stream.single_err") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        bool reached = false;
        auto s = [](bool* reached, bool fail) -> braid::Stream<std::string_view> {
            if (fail) throw std::runtime_error("hello");
            else co_yield "world";
            *reached = true;  // unreachable
        }(&reached, true);

        auto out = co_await drain(s);
        EXPECT(out.items.empty());
        EXPECT(out.error == "hello");
        EXPECT(!reached);
    }());
}

TEST_CASE("async_stream.yield_then_err") {
    auto rt = current_thread();
    rt.block_on([]() -> braid::Task<> {
        bool reached = false;
        auto s = [](bool* reached) -> braid::Stream<std::string_view> {
            co_yield "hello";
            throw std::runtime_error("world");
            *reached = true;  // unreachable
        }(&reached);

        auto out = co_await drain(s);
        EXPECT(out.items == std::vector<std::string_view>{"hello"});
        EXPECT(out.error == "world");
        EXPECT(!reached);
    }());
}

}  // namespace conformance_async_stream
