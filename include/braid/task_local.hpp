// Task-local values (Tokio's task_local!): a value scoped to an awaitable,
// visible to the code it runs across suspension points and worker threads,
// and not inherited by tasks it spawns (pass it explicitly).  Branches of
// join/select inside the scope see it too: they run inside the same task.
//
//   inline braid::TaskLocal<std::string> REQUEST_ID;
//   co_await REQUEST_ID.scope("req-42", handle_request());
//   ... inside handle_request(), at any depth: REQUEST_ID.get() == "req-42"
//
// The value is also visible to destructors of what the scoped awaitable
// holds, however its frames are destroyed: when it completes, when its task
// is aborted or dropped by a runtime shutdown or a JoinSet, when a
// select/timeout cancels the branch it runs in, and when the scope is
// dropped before it ever ran.  RAII cleanup (a guard that logs the request
// id, returns a connection to the pool of the current tenant) can rely on it.
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/task.hpp>

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid {

namespace detail {

// One value in scope: a linked stack per context, innermost first.
struct LocalFrame {
    const void* key;
    void* value;
    LocalFrame* outer;
};

// Gives the awaiting coroutine's context without suspending.
struct CurrentContext {
    Context* ctx = nullptr;
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
        ctx = h.promise().ctx;
        return false;
    }
    Context* await_resume() const noexcept { return ctx; }
};

// The key, the value and the awaitable of a scope, moved into its frame as
// one parameter.  If the scope is destroyed before it started, this
// destroys the awaitable with the value in scope (under a context of its
// own, on top of the values of the code that destroys it).
template <class T, class Inner>
struct ScopeParts {
    const void* key;
    T value;
    Inner inner;

    ScopeParts(const void* k, T v, Inner i) : key(k), value(std::move(v)), inner(std::move(i)) {}
    ScopeParts(ScopeParts&&) = default;
    ~ScopeParts() {
        if (!inner.valid()) return;  // started: the body owns it
        Context* outer_ctx = tl_current_context;
        Context own;
        LocalFrame frame{key, &value, outer_ctx ? outer_ctx->locals : nullptr};
        own.locals = &frame;
        ContextScope scope(&own);
        Inner dropped(std::move(inner));
    }
};

}  // namespace detail

template <class T>
class TaskLocal {
public:
    // Runs `a` with this local set to `value`; gives a's result.
    template <class A>
    auto scope(T value, A&& a) const {
        using Inner = detail::task_of_t<A>;
        using R = typename Inner::value_type;
        using Parts = detail::ScopeParts<T, Inner>;
        return [](Parts parts) -> Task<R> {
            detail::Context* ctx = co_await detail::CurrentContext{};
            detail::LocalFrame frame{parts.key, &parts.value, ctx->locals};
            // Destroyed last (also when cancelled): takes the value out of
            // scope, and gives the thread back its context.
            struct Restore {
                detail::Context* c;
                detail::LocalFrame* outer;
                detail::Context* saved_current = nullptr;
                ~Restore() {
                    c->locals = outer;
                    if (entered) detail::tl_current_context = saved_current;
                }
                bool entered = false;
            } restore{ctx, frame.outer};
            ctx->locals = &frame;
            Inner inner = std::move(parts.inner);
            // Destroyed first: whoever destroys this frame (an abort, a
            // shutdown on another thread, a select dropping its branch),
            // `inner` is destroyed next as this context's code, with the
            // value still in scope.
            struct Enter {
                Restore* r;
                ~Enter() {
                    r->saved_current = std::exchange(detail::tl_current_context, r->c);
                    r->entered = true;
                }
            } enter{&restore};
            co_return co_await std::move(inner);
        }(Parts(this, std::move(value), detail::as_task(std::forward<A>(a))));
    }

    // The value in scope for the running code; throws braid::Error if none.
    T& get() const {
        T* v = try_get();
        if (!v) throw Error(BRAID_EINVAL, "task-local value not set in this task");
        return *v;
    }
    // nullptr when not in scope.
    T* try_get() const {
        detail::Context* ctx = detail::tl_current_context;
        for (detail::LocalFrame* f = ctx ? ctx->locals : nullptr; f; f = f->outer)
            if (f->key == this) return static_cast<T*>(f->value);
        return nullptr;
    }

    // f(value) with the value in scope; throws braid::Error if none
    // (Tokio's with).
    template <class F>
    decltype(auto) with(F&& f) const {
        return std::invoke(std::forward<F>(f), get());
    }
    // f(value) if the value is in scope: its result in a std::optional (a
    // copy of what a reference refers to; true/false for a void f), or
    // std::nullopt (false) without calling f (Tokio's try_with).  Usable in
    // destructors: see above.
    template <class F>
    auto try_with(F&& f) const {
        using R = std::invoke_result_t<F&&, T&>;
        T* v = try_get();
        if constexpr (std::is_void_v<R>) {
            if (!v) return false;
            std::invoke(std::forward<F>(f), *v);
            return true;
        } else {
            using O = std::optional<std::decay_t<R>>;
            if (!v) return O();
            return O(std::invoke(std::forward<F>(f), *v));
        }
    }
};

}  // namespace braid
