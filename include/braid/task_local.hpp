// Task-local values (Tokio's task_local!): a value scoped to an awaitable,
// visible to the code it runs across suspension points and worker threads,
// and not inherited by tasks it spawns (pass it explicitly).  Branches of
// join/select inside the scope see it too: they run inside the same task.
//
//   inline braid::TaskLocal<std::string> REQUEST_ID;
//   co_await REQUEST_ID.scope("req-42", handle_request());
//   ... inside handle_request(), at any depth: REQUEST_ID.get() == "req-42"
#pragma once

#include <braid/detail/branch.hpp>
#include <braid/detail/context.hpp>
#include <braid/error.hpp>
#include <braid/task.hpp>

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

}  // namespace detail

template <class T>
class TaskLocal {
public:
    // Runs `a` with this local set to `value`; gives a's result.
    template <class A>
    auto scope(T value, A&& a) const {
        using Inner = detail::task_of_t<A>;
        using R = typename Inner::value_type;
        return [](const TaskLocal* self, T v, Inner inner) -> Task<R> {
            detail::Context* ctx = co_await detail::CurrentContext{};
            detail::LocalFrame frame{self, &v, ctx->locals};
            struct Restore {
                detail::Context* c;
                detail::LocalFrame* outer;
                ~Restore() { c->locals = outer; }  // also when cancelled
            } restore{ctx, frame.outer};
            ctx->locals = &frame;
            co_return co_await std::move(inner);
        }(this, std::move(value), detail::as_task(std::forward<A>(a)));
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
};

}  // namespace braid
