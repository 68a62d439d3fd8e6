#include "io/os_error.hpp"

#include <braid/error.h>

#include <cerrno>

namespace braid::detail {

int& last_os_error() {
    thread_local int e = 0;
    return e;
}

int map_errno(int e) {
    switch (e) {
        case 0: return BRAID_EIO;
        case EINVAL: case EISCONN: case ENAMETOOLONG: case EOVERFLOW: case EFAULT:
        case ELOOP: case EMSGSIZE: case ENOTSOCK: case EPROTOTYPE: case ENOPROTOOPT:
            return BRAID_EINVAL;
        case ENOMEM: case ENOBUFS: return BRAID_ENOMEM;
        case ECANCELED: return BRAID_ECANCELED;
        case ETIMEDOUT: return BRAID_ETIMEDOUT;
        case EAGAIN: return BRAID_EAGAIN;
        case EOPNOTSUPP: case EAFNOSUPPORT: case EPROTONOSUPPORT: case ESOCKTNOSUPPORT: case ENOSYS:
        case EPFNOSUPPORT:
            return BRAID_ENOTSUP;
        case EBADF: return BRAID_EBADF;
        case ERANGE: case EFBIG: return BRAID_ERANGE;
        case EBUSY: case ETXTBSY: return BRAID_EBUSY;
        case ECONNREFUSED: return BRAID_ECONNREFUSED;
        case ECONNRESET: return BRAID_ECONNRESET;
        case EADDRINUSE: return BRAID_EADDRINUSE;
        case EADDRNOTAVAIL: return BRAID_EADDRNOTAVAIL;
        case ENOTCONN: case EDESTADDRREQ: return BRAID_ENOTCONN;
        case EPIPE: return BRAID_EPIPE;
        case ENOENT: case ESRCH: case ENXIO: case ENODEV: return BRAID_ENOENT;
        case EACCES: case EPERM: case EROFS: return BRAID_EACCES;
        case EEXIST: return BRAID_EEXIST;
        case EISDIR: return BRAID_EISDIR;
        case ENOTDIR: return BRAID_ENOTDIR;
        case EHOSTUNREACH: case ENETUNREACH: case ENETDOWN: case EHOSTDOWN: return BRAID_EUNREACH;
        case ENOTEMPTY: return BRAID_ENOTEMPTY;
        case EMFILE: case ENFILE: return BRAID_EMFILE;
        case ECONNABORTED: return BRAID_ECONNABORTED;
        default: return BRAID_EIO;
    }
}

int os_error(int e) {
    last_os_error() = e;
    return map_errno(e);
}

}  // namespace braid::detail
