// select: race awaitables inside the current task.  The first to finish
// wins; every other branch is cancelled — its frame destroyed, its
// destructors run — before select returns.
//
//   auto r = co_await braid::select(fetch_from_primary(), fetch_from_backup());
//   if (r.index() == 0) use(std::get<0>(r));
//
// The result is a std::variant whose index is the winning argument (void
// results are std::monostate; equal types are fine: use std::get<I>).  If
// the winner threw, select rethrows it.  Start order is randomised for
// fairness; select_biased polls in argument order.
#pragma once

#include <braid/detail/branch.hpp>

#include <cstddef>
#include <tuple>
#include <utility>
#include <variant>

namespace braid {

namespace detail {

template <bool Biased, class... Ts>
class [[nodiscard]] SelectAwaiter {
    static_assert(sizeof...(Ts) > 0, "select needs at least one awaitable");
    static constexpr std::size_t N = sizeof...(Ts);

public:
    using result_type = std::variant<value_or_monostate<Ts>...>;

    explicit SelectAwaiter(Task<Ts>... tasks) : branches_(Branch<Ts>(std::move(tasks))...) {}

    bool await_ready() const noexcept { return false; }

    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        Context* parent = h.promise().ctx;
        std::apply([&](auto&... b) { (b.start(parent), ...); }, branches_);
        start_ = Biased ? 0 : fast_random() % N;
        if (poll_all()) return false;
        parent->wait_on(h, &SelectAwaiter::repoll, this);
        return true;
    }

    result_type await_resume() { return take<0>(); }

private:
    static bool repoll(void* self, Context&) { return static_cast<SelectAwaiter*>(self)->poll_all(); }

    template <std::size_t... I>
    bool poll_index(std::size_t i, std::index_sequence<I...>) {
        bool done = false;
        ((i == I ? (done = std::get<I>(branches_).poll()) : false), ...);
        return done;
    }

    bool poll_all() {
        for (std::size_t k = 0; k < N; ++k) {
            std::size_t i = (start_ + k) % N;
            if (poll_index(i, std::index_sequence_for<Ts...>{})) {
                winner_ = i;
                cancel_losers(std::index_sequence_for<Ts...>{});
                return true;
            }
        }
        return false;
    }

    template <std::size_t... I>
    void cancel_losers(std::index_sequence<I...>) {
        ((I != winner_ ? std::get<I>(branches_).cancel() : void()), ...);
    }

    template <std::size_t I>
    result_type take() {
        if constexpr (I < N) {
            if (winner_ == I) return result_type(std::in_place_index<I>, take_value(std::get<I>(branches_)));
            return take<I + 1>();
        } else {
            throw Error(BRAID_EINVAL, "select resumed without a winner");
        }
    }

    std::tuple<Branch<Ts>...> branches_;
    std::size_t start_ = 0;
    std::size_t winner_ = N;
};

}  // namespace detail

template <class... A>
auto select(A&&... awaitables) {
    return detail::SelectAwaiter<false, typename detail::task_of_t<A>::value_type...>(
        detail::as_task(std::forward<A>(awaitables))...);
}

template <class... A>
auto select_biased(A&&... awaitables) {
    return detail::SelectAwaiter<true, typename detail::task_of_t<A>::value_type...>(
        detail::as_task(std::forward<A>(awaitables))...);
}

}  // namespace braid
