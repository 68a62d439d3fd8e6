// extern "C" shims: cancellation tokens (src/task/cancellation_token.*).
#include <braid/cancel.h>

#include "shim.hpp"
#include "task/cancellation_token.hpp"

using braid::capi::core_of;
using braid::detail::CancellationToken;
using braid::detail::Waiter;

namespace {

CancellationToken* of(braid_token* t) { return reinterpret_cast<CancellationToken*>(t); }
const CancellationToken* of(const braid_token* t) { return reinterpret_cast<const CancellationToken*>(t); }
braid_token* c_token(CancellationToken* t) { return reinterpret_cast<braid_token*>(t); }
Waiter** waiter_of(braid_waiter** w) { return reinterpret_cast<Waiter**>(w); }

}  // namespace

extern "C" {

BRAID_API int braid_token_new(braid_token** out) {
    if (!out) return BRAID_EINVAL;
    *out = c_token(CancellationToken::make_root());
    return *out ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API int braid_token_child(braid_token** out, braid_token* parent) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!parent) return BRAID_EINVAL;
    *out = c_token(of(parent)->make_child());
    return *out ? BRAID_OK : BRAID_ENOMEM;
}

BRAID_API int braid_token_clone(braid_token** out, braid_token* token) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!token) return BRAID_EINVAL;
    of(token)->ref();
    *out = token;
    return BRAID_OK;
}

BRAID_API void braid_token_free(braid_token* token) {
    if (token) of(token)->unref();
}

BRAID_API int braid_token_cancel(braid_token* token) {
    if (!token) return BRAID_EINVAL;
    of(token)->cancel();
    return BRAID_OK;
}

BRAID_API int braid_token_is_cancelled(const braid_token* token) {
    if (!token) return BRAID_EINVAL;
    return of(token)->is_cancelled() ? 1 : 0;
}

BRAID_API int braid_token_poll_cancelled(braid_token* token, braid_waiter** w, braid_wake_fn wake,
                                         void* wake_data) {
    if (!token || !w) return BRAID_EINVAL;
    if (!wake) return braid::capi::withdrawn([&] { braid_token_unregister_wait(token, w); });
    return of(token)->poll_cancelled(waiter_of(w), wake, wake_data);
}

BRAID_API void braid_token_cancel_wait(braid_token* token, braid_waiter** w) {
    if (token && w) of(token)->cancel_wait(waiter_of(w));
}

BRAID_API void braid_token_unregister_wait(braid_token* token, braid_waiter** w) {
    if (token && w) of(token)->unregister_wait(waiter_of(w));
}

BRAID_API int braid_token_on_cancel(braid_task** out, braid_runtime* rt, braid_token* token, braid_callback cb,
                                    void* user_data) {
    if (out) *out = nullptr;
    if (!rt || !token || !cb) return BRAID_EINVAL;
    return of(token)->on_cancel(out, core_of(rt), cb, user_data);
}

}  // extern "C"
