// braid::CancellationToken (tokio-util's): copy it freely, cancel it from
// anywhere, await cancelled() in any number of tasks.
//
//   braid::CancellationToken token;
//   auto child = token.child_token();
//   co_await braid::select(work(), child.cancelled());
//   token.cancel();                        // cancels child too
//   auto v = co_await token.run_until_cancelled(work());   // std::nullopt if cancelled first
#pragma once

#include <braid/cancel.h>
#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/select.hpp>

#include <optional>
#include <variant>
#include <utility>

namespace braid {

class CancellationToken {
public:
    CancellationToken() { detail::check(braid_token_new(&t_), "CancellationToken"); }
    CancellationToken(const CancellationToken& o) { detail::check(braid_token_clone(&t_, o.native()), "CancellationToken"); }
    CancellationToken(CancellationToken&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
    CancellationToken& operator=(CancellationToken o) noexcept {
        std::swap(t_, o.t_);
        return *this;
    }
    ~CancellationToken() { braid_token_free(t_); }

    // A token cancelled when this one is (not the reverse).
    CancellationToken child_token() const {
        braid_token* c = nullptr;
        detail::check(braid_token_child(&c, native()), "child_token");
        return CancellationToken(c);
    }
    void cancel() const { braid_token_cancel(native()); }
    bool is_cancelled() const { return braid_token_is_cancelled(native()) == 1; }

    class [[nodiscard]] Cancelled : public detail::LeafAwaiter<Cancelled> {
    public:
        // Holds its own reference: the token stays alive while awaited.
        explicit Cancelled(braid_token* t) { detail::check(braid_token_clone(&t_, t), "cancelled"); }
        Cancelled(Cancelled&& o) noexcept : t_(std::exchange(o.t_, nullptr)), w_(std::exchange(o.w_, nullptr)) {}
        ~Cancelled() {
            braid_token_cancel_wait(t_, &w_);
            braid_token_free(t_);
        }
        // Drops the waker; the waiter stays queued on the token.
        void unregister() noexcept { braid_token_unregister_wait(t_, &w_); }
        bool ready_now() const { return braid_token_is_cancelled(t_) == 1; }
        int poll(braid_wake_fn wake, void* d) { return braid_token_poll_cancelled(t_, &w_, wake, d); }
        void finish(int st) const { detail::check(st, "cancelled"); }

    private:
        braid_token* t_ = nullptr;
        braid_waiter* w_ = nullptr;
    };
    // Completes once the token is cancelled.
    Cancelled cancelled() const { return Cancelled(native()); }

    // Runs `a` until it finishes (its value) or the token is cancelled first
    // (std::nullopt; `a` is cancelled).
    template <class A>
    auto run_until_cancelled(A&& a) const {
        return [](CancellationToken tok, detail::task_of_t<A> t)
                   -> Task<std::optional<detail::value_or_monostate<typename detail::task_of_t<A>::value_type>>> {
            auto r = co_await select_biased(tok.cancelled(), std::move(t));
            if (r.index() == 0) co_return std::nullopt;
            co_return std::move(std::get<1>(r));
        }(*this, detail::as_task(std::forward<A>(a)));
    }

    // Cancels the token when destroyed, unless disarmed.
    class DropGuard {
    public:
        explicit DropGuard(braid_token* t) { detail::check(braid_token_clone(&t_, t), "drop_guard"); }
        DropGuard(DropGuard&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
        DropGuard(const DropGuard&) = delete;
        ~DropGuard() {
            if (t_) braid_token_cancel(t_);
            braid_token_free(t_);
        }
        // Gives the token back without cancelling it.
        CancellationToken disarm() { return CancellationToken(std::exchange(t_, nullptr)); }

    private:
        braid_token* t_ = nullptr;
    };
    DropGuard drop_guard() const { return DropGuard(native()); }

    braid_token* native_handle() const noexcept { return t_; }

private:
    explicit CancellationToken(braid_token* t) : t_(t) {}
    braid_token* native() const {
        if (!t_) throw Error(BRAID_EINVAL, "moved-from CancellationToken");
        return t_;
    }
    braid_token* t_ = nullptr;
};

}  // namespace braid
