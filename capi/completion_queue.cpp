// extern "C" shims: completion queues (src/task/completion_queue.hpp).
#include <braid/completion_queue.h>

#include "shim.hpp"
#include "task/completion_queue.hpp"

using braid::capi::guarded;
using braid::detail::CompletionQueue;

// The opaque C type is the engine's queue (never defined: only cast).
namespace {
CompletionQueue* cq(braid_completion_queue* q) { return reinterpret_cast<CompletionQueue*>(q); }
const CompletionQueue* cq(const braid_completion_queue* q) { return reinterpret_cast<const CompletionQueue*>(q); }

// The arguments of the take calls: a queue, records of this version's size
// at least, room for one, and a bytes buffer only with its size.
bool take_args_ok(const braid_completion_queue* q, const braid_completion* out, int max, size_t record_size,
                  const void* bytes, size_t cap) {
    return q && out && max > 0 && record_size >= sizeof(braid_completion) && (bytes || cap == 0);
}
}  // namespace

extern "C" {

BRAID_API int braid_completion_queue_new(braid_completion_queue** out) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    CompletionQueue* q = nullptr;
    int rc = CompletionQueue::create(&q);
    if (rc == BRAID_OK) *out = reinterpret_cast<braid_completion_queue*>(q);
    return rc;
}

BRAID_API int braid_completion_queue_fd(const braid_completion_queue* q) {
    if (!q) return BRAID_EINVAL;
    int fd = cq(q)->fd();
    return fd >= 0 ? fd : BRAID_EINVAL;
}

BRAID_API int braid_completion_queue_set_current(braid_completion_queue* q) {
    CompletionQueue::set_current(cq(q));
    return BRAID_OK;
}

BRAID_API braid_completion_queue* braid_completion_queue_current(void) {
    return reinterpret_cast<braid_completion_queue*>(CompletionQueue::current());
}

BRAID_API int braid_completion_queue_run(braid_completion_queue* q, int max) {
    if (!q) return BRAID_EINVAL;
    return guarded([&] { return cq(q)->run(max); });
}

BRAID_API int braid_completion_queue_take(braid_completion_queue* q, braid_completion* out, int max,
                                          size_t record_size) {
    return braid_completion_queue_take_bytes(q, out, max, record_size, nullptr, 0);
}

BRAID_API int braid_completion_queue_take_bytes(braid_completion_queue* q, braid_completion* out, int max,
                                                size_t record_size, void* bytes, size_t cap) {
    if (!take_args_ok(q, out, max, record_size, bytes, cap)) return BRAID_EINVAL;
    return guarded([&] { return cq(q)->take(out, max, record_size, static_cast<char*>(bytes), bytes ? cap : 0); });
}

BRAID_API int braid_runtime_turn_take(braid_runtime* rt, int max_polls, braid_completion_queue* q,
                                      braid_completion* out, int max, size_t record_size, void* bytes, size_t cap) {
    // Checked before the turn: its completions must have a take to go to.
    if (!rt || max_polls < 0 || !take_args_ok(q, out, max, record_size, bytes, cap)) return BRAID_EINVAL;
    int rc;
    {
        braid::detail::CompletionQueue::Quiet quiet(cq(q));
        rc = braid_runtime_turn(rt, max_polls);
    }
    if (rc < 0) return rc;
    return braid_completion_queue_take_bytes(q, out, max, record_size, bytes, cap);
}

BRAID_API int braid_completion_queue_pending(const braid_completion_queue* q) {
    if (!q) return BRAID_EINVAL;
    std::size_t n = cq(q)->pending();
    return n > std::size_t(INT32_MAX) ? INT32_MAX : int(n);
}

BRAID_API int braid_completion_queue_free(braid_completion_queue* q) {
    if (!q) return BRAID_OK;
    return cq(q)->close();
}

}  // extern "C"
