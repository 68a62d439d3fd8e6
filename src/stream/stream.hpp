// The C ABI's stream object (braid_stream): a producer's poll function and
// state, the element ops, end-of-stream fusing, the one callback operation
// that may be pending, and the operations themselves (next, for_each).
#pragma once

#include <braid/stream.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#include "runtime/core.hpp"
#include "sync/elem_ops.hpp"

namespace braid::detail {

class CStream {
public:
    static CStream* create(const ElemOps& ops, braid_stream_poll_fn poll, braid_state_fn free_state, void* state);

    const ElemOps& ops() const { return ops_; }

    // braid_stream_poll_next for the consumer; BRAID_EBUSY while an
    // operation is pending.
    int poll_next(void* out, braid_wake_fn wake, void* data);
    // Removes the consumer's registration.
    void unregister();

    // Starts braid_stream_next (each == false) or braid_stream_for_each.
    int start_op(braid_task** out, Core* core, bool each, braid_stream_item_fn cb, void* ud);

    // braid_stream_free: aborts a pending operation; the object goes when
    // the operation has finished.
    void release_owner();

private:
    struct Op;
    CStream(const ElemOps& ops, braid_stream_poll_fn poll, braid_state_fn free_state, void* state)
        : ops_(ops), poll_(poll), free_state_(free_state), state_(state) {}
    ~CStream();
    // Polls the producer; BRAID_ECLOSED for good once it ended or failed.
    int produce(void* out, braid_wake_fn wake, void* data);
    void unref();

    ElemOps ops_;
    braid_stream_poll_fn poll_;
    braid_state_fn free_state_;
    void* state_;
    bool ended_ = false;                  // the consumer's side only
    std::atomic<int> refs_{1};            // the owner, and a pending operation
    std::atomic<bool> op_pending_{false};
    std::atomic<bool> owner_gone_{false};  // braid_stream_free was called
    std::mutex mu_;                       // guards op_task_
    braid_task* op_task_ = nullptr;       // the pending operation's handle
};

}  // namespace braid::detail
