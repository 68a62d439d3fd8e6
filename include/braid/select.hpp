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
//
// In a loop (Tokio's `loop { select! { .. } }`): an awaitable passed by
// lvalue is kept by the caller and keeps its progress across the selects
// that race it; only what a losing branch had registered goes:
//
//   auto deadline = braid::sleep(30s);                 // one deadline for the loop
//   auto work = braid::pin(long_job());                // a task driven across selects
//   bool input_open = true;
//   for (;;) {
//       auto r = co_await braid::select(deadline,                               // 0
//                                       work,                                   // 1
//                                       braid::when(input_open, rx.recv()),     // 2
//                                       braid::otherwise());                    // 3
//       if (r.index() == 0) break;                     // 30s after the loop began
//       if (r.index() == 1) { use(std::get<1>(r)); break; }
//       if (r.index() == 2) {
//           if (auto m = std::get<2>(r)) handle(*m);
//           else input_open = false;                   // disabled from now on
//       }
//   }
//
//  - a kept leaf (a Sleep, a receive, a Notified, a lock ...) keeps its
//    timer and deadline, its place in a wait queue, what was granted to it;
//    a kept `rx.recv()` loses no message.  A kept awaitable that cannot drop
//    a registration (no `unregister()`) does not compile by lvalue.
//  - a JoinHandle by lvalue stays joinable; a Task must be pinned
//    (braid::pin) to be raced by lvalue: a plain Task by lvalue does not
//    compile (it would be consumed by the first select).
//  - braid::when(cond, a): Tokio's `, if cond`: a disabled branch is not
//    polled at all (`a` is still evaluated, and destroyed unpolled).
//  - braid::otherwise(): Tokio's `else`; last argument; chosen when every
//    other branch is disabled.  Without it, a select whose branches are all
//    disabled throws braid::Error(BRAID_EINVAL) (Tokio panics) rather than
//    wait forever.
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/pinned.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace braid {

namespace detail {

// braid::when(cond, a): `a` as a branch of select, polled only if cond.
template <class A>
struct [[nodiscard]] When {
    bool enabled;
    A&& awaitable;
};

template <class A>
struct select_arg {
    using type = A;
    static constexpr bool is_else = false;
    static bool enabled(const std::remove_reference_t<A>&) noexcept { return true; }
    static decltype(auto) arg(A&& a) { return branch_arg(std::forward<A>(a)); }
    using branch = branch_t<A>;
};
template <class A>
struct select_arg<When<A>> {
    static constexpr bool is_else = false;
    static bool enabled(const When<A>& w) noexcept { return w.enabled; }
    static decltype(auto) arg(When<A>&& w) { return branch_arg(std::forward<A>(w.awaitable)); }
    using branch = branch_t<A>;
};
template <class A>
struct select_arg<When<A>&> {
    static_assert(!std::is_same_v<A, A>,
                  "braid::when(cond, a) must be passed directly to select, not kept in a variable");
};
template <>
struct select_arg<Otherwise> {
    static constexpr bool is_else = true;
    static bool enabled(const Otherwise&) noexcept { return false; }
    static Otherwise arg(Otherwise&&) noexcept { return {}; }
    using branch = ElseBranch;
};
template <>
struct select_arg<Otherwise&> : select_arg<Otherwise> {};
template <>
struct select_arg<const Otherwise&> : select_arg<Otherwise> {
    static Otherwise arg(const Otherwise&) noexcept { return {}; }
};

template <bool Biased, bool HasElse, class... Bs>
class [[nodiscard]] SelectAwaiter {
    static_assert(sizeof...(Bs) > 0, "select needs at least one awaitable");
    static constexpr std::size_t N = sizeof...(Bs);

public:
    using result_type = std::variant<value_or_monostate<typename Bs::value_type>...>;

    template <class... Args>
    explicit SelectAwaiter(std::array<bool, N> enabled, Args&&... args)
        : branches_(std::forward<Args>(args)...), enabled_(enabled) {}

    bool await_ready() {
        for (bool e : enabled_)
            if (e) return false;
        if constexpr (HasElse) {
            winner_ = N - 1;
            return true;
        } else {
            throw Error(BRAID_EINVAL, "select: every branch is disabled and there is no braid::otherwise()");
        }
    }

    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        Context* parent = h.promise().ctx;
        std::apply([&](auto&... b) { (b.start(parent), ...); }, branches_);
        start_ = Biased ? 0 : fast_random() % N;
        if (poll_all()) return false;
        parent->wait_on(h, &SelectAwaiter::repoll, this);
        return true;
    }

    // Everything is released before an exception leaves: g++ 12 may skip
    // this awaiter's destructor when await_resume throws.
    result_type await_resume() {
        cancel_losers(std::index_sequence_for<Bs...>{});  // also the disabled ones
        try {
            return take<0>();
        } catch (...) {
            std::apply([](auto&... b) { (b.cancel(), ...); }, branches_);
            throw;
        }
    }

private:
    // Every poll starts at a new random branch, as Tokio's select! does: with
    // the first poll's start kept, a branch that uses up the task's budget on
    // every poll (one draining an always-ready stream) would be polled first
    // each time, and a branch behind it that needs a unit of budget to
    // complete (a due sleep) would never win.
    static bool repoll(void* self, Context&) {
        auto* s = static_cast<SelectAwaiter*>(self);
        if constexpr (!Biased) s->start_ = fast_random() % N;
        return s->poll_all();
    }

    template <std::size_t... I>
    bool poll_index(std::size_t i, std::index_sequence<I...>) {
        bool done = false;
        ((i == I ? (done = std::get<I>(branches_).poll()) : false), ...);
        return done;
    }

    bool poll_all() {
        for (std::size_t k = 0; k < N; ++k) {
            std::size_t i = (start_ + k) % N;
            if (!enabled_[i]) continue;
            if (poll_index(i, std::index_sequence_for<Bs...>{})) {
                winner_ = i;
                cancel_losers(std::index_sequence_for<Bs...>{});
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

    std::tuple<Bs...> branches_;
    std::array<bool, N> enabled_;
    std::size_t start_ = 0;
    std::size_t winner_ = N;
};

template <bool Biased, class... A>
auto make_select(A&&... a) {
    constexpr std::size_t n = sizeof...(A);
    constexpr bool is_else[] = {select_arg<A>::is_else...};
    constexpr std::size_t elses = (std::size_t(select_arg<A>::is_else) + ...);
    static_assert(elses == 0 || (elses == 1 && is_else[n - 1]),
                  "braid::otherwise() may be given once, as the last argument of select");
    return SelectAwaiter<Biased, elses == 1, typename select_arg<A>::branch...>(
        std::array<bool, n>{select_arg<A>::enabled(a)...}, select_arg<A>::arg(std::forward<A>(a))...);
}

}  // namespace detail

// A branch of select that is polled only when `enabled` (Tokio's `, if
// cond`).  Pass it directly as an argument of select.
template <class A>
detail::When<A> when(bool enabled, A&& awaitable) {
    return detail::When<A>{enabled, std::forward<A>(awaitable)};
}

// select's else branch (last argument): its index wins, with
// std::monostate, when every other branch is disabled.
inline detail::Otherwise otherwise() noexcept { return {}; }

template <class... A>
auto select(A&&... awaitables) {
    return detail::make_select<false>(std::forward<A>(awaitables)...);
}

template <class... A>
auto select_biased(A&&... awaitables) {
    return detail::make_select<true>(std::forward<A>(awaitables)...);
}

}  // namespace braid
