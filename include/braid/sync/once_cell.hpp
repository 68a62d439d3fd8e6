// braid::OnceCell<T>: a value set once, then shared without locking.
//
//   braid::OnceCell<Config> cfg;
//   const Config& c = co_await cfg.get_or_init([]() -> braid::Task<Config> { co_return co_await load(); });
//
// get_or_init runs the initialiser once even when many tasks race: the first
// runs it, the others wait (FIFO) and all get the same value.  If the
// initialiser throws, or its task is cancelled, the next waiter runs its own
// initialiser.  The initialiser may return a Task<T> (awaited) or a T.
#pragma once

#include <braid/detail/elem.hpp>
#include <braid/error.hpp>
#include <braid/once_cell.h>
#include <braid/detail/unstable.hpp>
#include <braid/sync/wait_leaf.hpp>
#include <braid/task.hpp>

#include <coroutine>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid {

template <class T>
class OnceCell {
public:
    OnceCell() {
        detail::check(braid_once_cell_new(&c_, sizeof(T), alignof(T), detail::Elem<T>::relocate_fn(),
                                          detail::Elem<T>::drop_fn()),
                      "OnceCell");
    }
    explicit OnceCell(T value) : OnceCell() { set(std::move(value)); }
    OnceCell(const OnceCell&) = delete;
    OnceCell& operator=(const OnceCell&) = delete;
    ~OnceCell() { braid_once_cell_free(c_); }

    // The value once set, else nullptr.
    const T* get() const noexcept {
        void* v = nullptr;
        braid_once_cell_get(c_, &v);
        return static_cast<const T*>(v);
    }
    bool initialized() const noexcept { return get() != nullptr; }

    // Why set() refused, with the value handed back (Tokio's SetError).
    struct SetError {
        enum Kind { AlreadyInitialized, Initializing } kind;
        T value;
        bool is_already_init() const noexcept { return kind == AlreadyInitialized; }
        bool is_initializing() const noexcept { return kind == Initializing; }
    };

    // Sets the value if the cell is empty (std::nullopt); otherwise a
    // SetError says whether it is set already or being initialised, and
    // hands the value back.
    std::optional<SetError> set(T value) {
        detail::Slot<T> slot;
        slot.emplace(std::move(value));
        int rc = braid_once_cell_set(c_, slot.raw(), sizeof(T));
        if (rc == BRAID_OK) {
            slot.emptied();
            return std::nullopt;
        }
        if (rc == BRAID_EEXIST) return SetError{SetError::AlreadyInitialized, slot.take()};
        if (rc == BRAID_EBUSY) return SetError{SetError::Initializing, slot.take()};
        throw Error(rc, "OnceCell::set");
    }

    // Takes the value out and empties the cell (Tokio's take, which needs
    // `&mut self`: call it only while nobody else uses the cell; a reference
    // get() gave is dangling afterwards).  std::nullopt when not set; throws
    // braid::Error (BRAID_EBUSY) while an initialiser runs.
    std::optional<T> take() {
        detail::Slot<T> slot;
        int rc = braid_once_cell_take(c_, slot.raw(), sizeof(T));
        if (rc == BRAID_EAGAIN) return std::nullopt;
        detail::check(rc, "OnceCell::take");
        slot.filled();
        return slot.take();
    }
    // The value, consuming the cell's content (Tokio's into_inner).
    std::optional<T> into_inner() && { return take(); }

    // co_await: const T&, initialised by init() if nobody did it first.
    template <class F>
    class [[nodiscard]] GetOrInit {
    public:
        GetOrInit(OnceCell* c, F f) : c_(c), f_(std::move(f)) {}
        bool await_ready() const noexcept { return c_->initialized(); }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
            task_ = OnceCell::init(c_->c_, std::move(f_));
            aw_.emplace(task_.operator co_await());
            return aw_->await_suspend(h);
        }
        const T& await_resume() {
            if (aw_) aw_->await_resume();  // rethrows what the initialiser threw
            return *c_->get();
        }

    private:
        OnceCell* c_;
        F f_;
        Task<void> task_;
        std::optional<typename Task<void>::Awaiter> aw_;
    };
    template <class F>
    GetOrInit<F> get_or_init(F init) {
        return GetOrInit<F>(this, std::move(init));
    }

    braid_once_cell* native_handle() const noexcept { return c_; }

private:
    // Waits for the value or for the right to initialise.
    class [[nodiscard]] InitWait
        : public detail::WaitLeaf<InitWait, braid_once_cell, &braid_once_cell_cancel_init,
                                  &braid_once_cell_unregister_init> {
    public:
        using Base =
            detail::WaitLeaf<InitWait, braid_once_cell, &braid_once_cell_cancel_init, &braid_once_cell_unregister_init>;
        explicit InitWait(braid_once_cell* c) : Base(c) {}
        int poll(braid_wake_fn w, void* d) { return braid_once_cell_poll_init(this->h_, &this->w_, w, d); }
        int finish(int st) { return detail::check(st, "OnceCell::get_or_init"); }
    };
    // Gives the right to initialise back unless disarmed (exception, cancel).
    struct AbortInit {
        braid_once_cell* c;
        bool armed = true;
        ~AbortInit() {
            if (armed) braid_once_cell_abort_init(c);
        }
    };
    template <class F>
    static Task<void> init(braid_once_cell* c, F f) {
        int waited = co_await InitWait(c);  // not in the condition: g++ 12.2 (docs/compilers.md)
        if (waited == BRAID_OK) co_return;  // somebody else set it
        AbortInit guard{c};
        detail::Slot<T> slot;
        if constexpr (requires { typename std::invoke_result_t<F&>::promise_type; })
            slot.emplace(co_await f());
        else
            slot.emplace(f());
        detail::check(braid_once_cell_complete_init(c, slot.raw(), sizeof(T)), "OnceCell::get_or_init");
        slot.emptied();
        guard.armed = false;
    }

    braid_once_cell* c_ = nullptr;
};

}  // namespace braid
