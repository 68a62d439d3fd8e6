#include "task/cancellation_token.hpp"

#include <braid/error.h>

#include <new>

#include "runtime/core.hpp"
#include "task/coop.hpp"
#include "task/spawn.hpp"
#include "task/callback.hpp"

namespace braid::detail {

CancellationToken* CancellationToken::make_root() {
    auto* tree = new (std::nothrow) Tree();
    if (!tree) return nullptr;
    auto* t = new (std::nothrow) CancellationToken(tree, nullptr);
    if (!t) delete tree;
    return t;
}

CancellationToken* CancellationToken::make_child() {
    auto* c = new (std::nothrow) CancellationToken(tree_, this);
    if (!c) return nullptr;
    tree_->refs.fetch_add(1, std::memory_order_relaxed);
    ref();  // the child's reference to its parent
    std::lock_guard<std::mutex> g(tree_->mu);
    c->next_sibling_ = first_child_;
    if (first_child_) first_child_->prev_sibling_ = c;
    first_child_ = c;
    if (is_cancelled()) c->cancelled_.store(true, std::memory_order_release);
    return c;
}

void CancellationToken::unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    // No handle and no child is left (children hold a reference).
    CancellationToken* parent = parent_;
    Tree* tree = tree_;
    if (parent) {
        std::lock_guard<std::mutex> g(tree->mu);
        if (prev_sibling_) prev_sibling_->next_sibling_ = next_sibling_;
        else parent->first_child_ = next_sibling_;
        if (next_sibling_) next_sibling_->prev_sibling_ = prev_sibling_;
    }
    delete this;
    if (parent) parent->unref();
    if (tree->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete tree;
}

void CancellationToken::cancel_locked() {
    if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
    waiters_.drain([](Waiter* w) { w->notify(); });
    for (CancellationToken* c = first_child_; c; c = c->next_sibling_) c->cancel_locked();
}

void CancellationToken::cancel() {
    if (is_cancelled()) return;
    std::lock_guard<std::mutex> g(tree_->mu);
    cancel_locked();
}

int CancellationToken::poll_cancelled(Waiter** w, braid_wake_fn wake, void* data) {
    if (!is_cancelled()) {
        std::lock_guard<std::mutex> g(tree_->mu);
        if (!is_cancelled()) {  // cancel() sets the flag under this lock: no wake-up is lost
            if (!wake) return BRAID_PENDING;
            if (!*w) {
                *w = Waiter::make();
                if (!*w) return BRAID_ENOMEM;
                waiters_.push_back(*w);
            }
            (*w)->set_waker(wake, data);
            return BRAID_PENDING;
        }
    }
    if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;  // budget used up: woken already
    cancel_wait(w);
    return BRAID_OK;
}

void CancellationToken::unregister_wait(Waiter** w) {
    if (!*w) return;
    std::lock_guard<std::mutex> g(tree_->mu);
    (*w)->forget_waker();
}

void CancellationToken::cancel_wait(Waiter** w) {
    if (!w || !*w) return;
    {
        std::lock_guard<std::mutex> g(tree_->mu);
        waiters_.remove(*w);
    }
    Waiter::destroy(*w);
    *w = nullptr;
}

namespace {

// braid_token_on_cancel's operation.
struct OnCancelOp {
    CancellationToken* token;
    Waiter* waiter = nullptr;
    Callback<braid_callback> cb;
    void* ud;
    OnCancelOp(CancellationToken* t, braid_callback c, void* u) : token(t), cb(c), ud(u) { token->ref(); }
    static int poll(void* self, braid_task* me) {
        auto* s = static_cast<OnCancelOp*>(self);
        int rc = s->token->poll_cancelled(&s->waiter, &braid_task_wake_fn, me);
        if (rc == BRAID_PENDING) return BRAID_PENDING;
        s->cb(s->ud, rc);
        return BRAID_OK;
    }
    static void cancel(void* self) {
        auto* s = static_cast<OnCancelOp*>(self);
        s->token->cancel_wait(&s->waiter);
        s->cb(s->ud, current_cancel_status());
    }
    ~OnCancelOp() {
        token->cancel_wait(&waiter);
        token->unref();
    }
};

}  // namespace

int CancellationToken::on_cancel(braid_task** out, Core* core, braid_callback cb, void* ud) {
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    return spawn_op<OnCancelOp>(out, core, TaskKind::Worker, this, cb, ud);
}

}  // namespace braid::detail
