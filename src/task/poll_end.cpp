#include "task/poll_end.hpp"

namespace braid::detail::poll_end {

constinit thread_local Slot tl_slot [[gnu::tls_model("initial-exec")]];

}  // namespace braid::detail::poll_end
