// The C ABI's stream object and its callback operations.
#include "stream/stream.hpp"

#include <cstdint>
#include <new>

#include "task/coop.hpp"
#include "task/task.hpp"
#include "util/alloc.hpp"

namespace braid::detail {

namespace {
braid_task* c_task(Task* t) { return reinterpret_cast<braid_task*>(t); }
}  // namespace

CStream* CStream::create(const ElemOps& ops, braid_stream_poll_fn poll, braid_state_fn free_state, void* state) {
    return new (std::nothrow) CStream(ops, poll, free_state, state);
}

CStream::~CStream() {
    unregister();
    if (free_state_) free_state_(state_);
}

void CStream::unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

int CStream::produce(void* out, braid_wake_fn wake, void* data) {
    if (ended_) return BRAID_ECLOSED;
    int rc = poll_(state_, out, wake, data);
    if (rc == BRAID_OK || rc == BRAID_PENDING) return rc;
    if (rc > 0) rc = BRAID_EINVAL;  // not a status a producer may return
    ended_ = true;
    return rc;
}

int CStream::poll_next(void* out, braid_wake_fn wake, void* data) {
    if (op_pending_.load(std::memory_order_acquire)) return BRAID_EBUSY;
    if (!wake) {
        unregister();
        return BRAID_PENDING;
    }
    // A poll that is ready at once costs a unit of the task's budget; when
    // it is used up, the consumer is woken and polls again after yielding.
    if (!coop::proceed(wake, data)) return BRAID_PENDING;
    int rc = produce(out, wake, data);
    if (rc == BRAID_PENDING) coop::refund();
    return rc;
}

void CStream::unregister() {
    if (!ended_) poll_(state_, nullptr, nullptr, nullptr);
}

// A braid_stream_next / braid_stream_for_each operation: a task whose state
// is this header followed by storage for one item.
struct CStream::Op {
    CStream* s;
    braid_stream_item_fn cb;
    void* ud;
    void* item;
    bool each;
    bool holds_stream = true;  // the reference on s, until the operation ends

    // Ends the operation on the stream's side (another may start), before
    // the last callback.
    void end_op() {
        braid_task* h;
        {
            std::lock_guard<std::mutex> g(s->mu_);
            h = s->op_task_;
            s->op_task_ = nullptr;
        }
        s->op_pending_.store(false, std::memory_order_release);
        // Our reference only (not braid_task_free, which would also remove a
        // join waker the caller registered through its own handle).
        if (h) reinterpret_cast<Task*>(h)->unref();
    }
    void drop_stream() {
        if (holds_stream) {
            holds_stream = false;
            s->unref();
        }
    }

    static int poll(void* p, braid_task* task) {
        auto* op = static_cast<Op*>(p);
        CStream* s = op->s;
        for (;;) {
            int rc = s->produce(op->item, &braid_task_wake_fn, task);
            if (rc == BRAID_PENDING) return BRAID_PENDING;
            if (rc == BRAID_OK && op->each) {
                op->cb(op->ud, BRAID_OK, op->item);
                s->ops_.destroy(op->item);
                if (s->owner_gone_.load(std::memory_order_acquire)) {
                    // freed from the callback: the abort is pending; end
                    // through the cancel path at once
                    braid_task_wake(task);
                    return BRAID_PENDING;
                }
                if (!coop::proceed(&braid_task_wake_fn, task)) return BRAID_PENDING;  // let others run
                continue;
            }
            op->end_op();
            op->cb(op->ud, rc, rc == BRAID_OK ? op->item : nullptr);
            if (rc == BRAID_OK) s->ops_.destroy(op->item);
            op->drop_stream();
            return BRAID_OK;
        }
    }
    static void cancel(void* p) {
        auto* op = static_cast<Op*>(p);
        op->s->unregister();
        op->end_op();
        op->cb(op->ud, current_cancel_status(), nullptr);
        op->drop_stream();
    }
    ~Op() {
        drop_stream();
    }
};

int CStream::start_op(braid_task** out, Core* core, bool each, braid_stream_item_fn cb, void* ud) {
    if (op_pending_.exchange(true, std::memory_order_acq_rel)) return BRAID_EBUSY;
    std::size_t align = ops_.align < alignof(Op) ? alignof(Op) : ops_.align;
    std::size_t size = sizeof(Op) + ops_.stride() + align;
    Task* t = Task::create(core, size, &task_vtable<Op>, out ? 3 : 2);
    if (!t) {
        op_pending_.store(false, std::memory_order_release);
        return BRAID_ENOMEM;
    }
    t->kind = TaskKind::Worker;
    auto base = reinterpret_cast<std::uintptr_t>(t->state_ptr()) + sizeof(Op);
    void* item = reinterpret_cast<void*>((base + align - 1) / align * align);
    new (t->state_ptr()) Op{this, cb, ud, item, each};
    refs_.fetch_add(1, std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> g(mu_);
        op_task_ = c_task(t);
    }
    int rc = t->launch(out);
    // Refused: finished already (and *out let go of); neither poll nor
    // cancel runs.  Dropping our handle runs release, which drops the stream.
    if (rc != BRAID_OK) static_cast<Op*>(t->state_ptr())->end_op();
    return rc;
}

void CStream::release_owner() {
    owner_gone_.store(true, std::memory_order_release);
    {
        std::lock_guard<std::mutex> g(mu_);
        if (op_task_) braid_task_abort(op_task_);
    }
    unref();
}

}  // namespace braid::detail
