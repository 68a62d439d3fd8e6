// extern "C" shims: socket addresses and the last OS error.
#include <braid/net.h>

#include "io/net.hpp"
#include "io/os_error.hpp"

extern "C" {

BRAID_API int braid_last_os_error(void) { return braid::detail::last_os_error(); }

BRAID_API int braid_addr_parse(struct sockaddr_storage* out, size_t* out_len, const char* text) {
    return braid::detail::net::parse_addr(text, out, out_len);
}

BRAID_API int braid_addr_format(char* buf, size_t cap, const struct sockaddr* addr, size_t addr_len) {
    return braid::detail::net::format_addr(buf, cap, addr, addr_len);
}

}  // extern "C"
