// Consumers: awaitables that drive a stream to its end (or until they know
// the answer): fold, collect, count, any, all, for_each.
//
//   uint64_t sum = co_await (numbers() | map(f) | fold(uint64_t(0), std::plus<>()));
//   std::vector<int> v = co_await (std::move(s) | collect());
//
// The stream is moved into the awaitable (pipe by_ref(s) to keep it).  They
// drive the whole pipeline in place (stream::drive, core.hpp): no coroutine
// frame and no allocation per item, and a generator at its source hands
// its items over without suspending.  Like every awaitable, they are cancel-safe in the
// sense of docs/cancellation.md: cancelling one drops the stream with it.
#pragma once

#include <braid/stream/core.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace braid::stream {

namespace detail {

// Drives s: step(acc, item) -> bool (false: stop early).  The result is acc.
template <AsyncStream S, class Acc, class Step>
class [[nodiscard]] Consume : public PollAwaiter<Consume<S, Acc, Step>> {
public:
    Consume(S s, Acc init, Step step) : s_(std::move(s)), acc_(std::move(init)), step_(std::move(step)) {}
    Consume(Consume&& o)
        : PollAwaiter<Consume>(std::move(o)), s_(std::move(o.s_)), acc_(std::move(o.acc_)), step_(std::move(o.step_)) {}
    ~Consume() {
        if (this->waiting_ && s_) s_->detach();
    }

    Acc await_resume() {
        if (this->failed()) {  // drop everything before the exception leaves
            s_.reset();
            acc_.reset();
        }
        this->done_waiting();
        return std::move(*acc_);
    }

    bool step(Context& cx) {
        // A local while the stream is driven; put back when it stops.  If
        // the stream throws, the accumulator is dropped anyway.
        Acc acc = std::move(*acc_);
        auto sink = [&](item_t<S>&& v) -> bool { return step_(acc, std::move(v)); };
        Drive d = stream::drive(*s_, cx, sink);
        *acc_ = std::move(acc);
        return d != Drive::Pending;
    }
    void detach_stream() noexcept { s_->detach(); }

private:
    std::optional<S> s_;
    std::optional<Acc> acc_;
    Step step_;
};

template <class Acc, class Step>
auto consumer(Acc init, Step step) {
    return adaptor([init = std::move(init), step = std::move(step)]<AsyncStream S>(S s) mutable {
        return Consume<S, Acc, Step>(std::move(s), std::move(init), std::move(step));
    });
}

}  // namespace detail

// `s | fold(init, f)`: acc = f(std::move(acc), item) for every item; the
// final acc.
template <class Acc, class F>
auto fold(Acc init, F f) {
    return detail::consumer(std::move(init), [f = std::move(f)](Acc& acc, auto&& v) mutable {
        acc = std::invoke(f, std::move(acc), std::forward<decltype(v)>(v));
        return true;
    });
}

namespace detail {

template <class Out>
struct Collect {
    template <class V>
    bool operator()(Out& out, V&& v) const {
        if constexpr (requires { out.push_back(std::forward<V>(v)); }) out.push_back(std::forward<V>(v));
        else if constexpr (requires { out.append(v); }) out.append(v);  // std::string of string items
        else out.insert(std::forward<V>(v));
        return true;
    }
};

}  // namespace detail

// `s | collect()`: every item, in a std::vector; `collect<C>()`: in C (any
// container with push_back or insert).  collect<std::string>() takes char
// items one by one, and string items (std::string, std::string_view, const
// char*) concatenated, as Tokio collects strings into a String.
template <class C = void>
auto collect() {
    return detail::adaptor([]<AsyncStream S>(S s) {
        using Out = std::conditional_t<std::is_void_v<C>, std::vector<item_t<S>>, C>;
        return detail::Consume<S, Out, detail::Collect<Out>>(std::move(s), Out(), detail::Collect<Out>());
    });
}

// `s | count()`: how many items.
inline auto count() {
    return detail::consumer(std::size_t(0), [](std::size_t& n, auto&&) {
        ++n;
        return true;
    });
}

// `s | any(pred)`: whether pred(const item&) holds for some item (stops at
// the first); `s | all(pred)`: for every item (stops at the first that fails).
template <class F>
auto any(F pred) {
    return detail::consumer(false, [pred = std::move(pred)](bool& found, const auto& v) mutable {
        found = std::invoke(pred, v);
        return !found;
    });
}
template <class F>
auto all(F pred) {
    return detail::consumer(true, [pred = std::move(pred)](bool& ok, const auto& v) mutable {
        ok = std::invoke(pred, v);
        return ok;
    });
}

// `s | for_each(f)`: f(item) for every item (a plain function; for an async
// one, `then` and then drain with for_each or count).  The result is the
// number of items.
template <class F>
auto for_each(F f) {
    return detail::consumer(std::size_t(0), [f = std::move(f)](std::size_t& n, auto&& v) mutable {
        std::invoke(f, std::forward<decltype(v)>(v));
        ++n;
        return true;
    });
}

}  // namespace braid::stream
