#include "runtime/enter.hpp"

#include <braid/error.h>

#include <utility>

#include "runtime/core.hpp"

namespace braid::detail {
namespace {
// How many guards the calling thread holds (they are left in reverse order).
thread_local uint32_t tl_enter_depth = 0;
}  // namespace

EnterGuard::EnterGuard(Core* core)
    : core_(core), prev_(tl_entered_core), thread_(std::this_thread::get_id()), depth_(++tl_enter_depth) {
    core_->ref();
    tl_entered_core = core_;
}

int EnterGuard::exit() {
    if (thread_ != std::this_thread::get_id() || depth_ != tl_enter_depth) return BRAID_EINVAL;
    --tl_enter_depth;
    tl_entered_core = prev_;
    return BRAID_OK;
}

EnterGuard::~EnterGuard() { core_->unref(); }

}  // namespace braid::detail
