// The bodies of the socket classes' from_std and into_std (Tokio's): a C
// handle made from a plain fd by its _from_fd function, and given back as
// one by its _into_fd function.
#pragma once

#include <braid/io/error.hpp>
#include <braid/runtime.h>

namespace braid::detail {

// T(handle) over `fd`, taken over on the calling thread's runtime; throws
// IoError (BRAID_EBADF, BRAID_EINVAL) with the fd still the caller's.
template <class T, class C>
T adopt_std_fd(int (*from_fd)(C**, braid_runtime*, int), int fd, const char* what) {
    C* h = nullptr;
    check_io(from_fd(&h, nullptr, fd), what);
    return T(h);
}

// The socket of `h` as a plain fd; `h` is left empty.  Empty already, or
// closed: IoError(BRAID_ECLOSED), and `h` is empty (the C call freed a closed
// handle).  Another failure (BRAID_EMFILE) leaves `h` as it was.
template <class C>
int release_std_fd(C*& h, int (*into_fd)(C*), const char* what) {
    if (!h) throw_io(BRAID_ECLOSED, 0, what);
    int rc = into_fd(h);
    if (rc >= 0 || rc == BRAID_ECLOSED) h = nullptr;
    return check_io(rc, what);
}

}  // namespace braid::detail
