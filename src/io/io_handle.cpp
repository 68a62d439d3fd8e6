#include "io/io_handle.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/core.hpp"

namespace braid::detail {

void IoHandle::adopt(Core* c, IoSource* s, IoKind k) {
    core = c;
    src = s;
    kind = k;
    c->ref();
}

int IoHandle::usable(const IoHandle* h) {
    if (!h || !h->src) return BRAID_EINVAL;
    return h->src->closed() ? BRAID_ECLOSED : BRAID_OK;
}

int IoHandle::claim(IoHandle* h, uint8_t bit) {
    if (int rc = usable(h)) return rc;
    if (h->core->shutting_down()) return BRAID_ESHUTDOWN;
    if (!h->src->try_claim(bit)) return BRAID_EBUSY;
    return BRAID_OK;
}

int IoHandle::fd(const IoHandle* h) { return h && h->src ? h->src->fd() : BRAID_EINVAL; }

int IoHandle::poll_ready(IoHandle* h, int interest, braid_wake_fn wake, void* data, int* out) {
    if (out) *out = 0;
    if (!h || !h->src || !out || interest < 1 || interest > (kIoRead | kIoWrite)) return BRAID_EINVAL;
    if (!wake) {
        h->src->unregister(interest, data);
        return BRAID_PENDING;
    }
    return h->src->poll_readiness(interest, wake, data, out);
}

int IoHandle::close() {
    if (!src) return BRAID_EINVAL;
    if (src->closed()) return BRAID_OK;
    src->close();
    if (kind == IoKind::Socket) {
        ::shutdown(src->fd(), SHUT_RDWR);
        return BRAID_OK;
    }
    // Let go of the pipe now (the other side sees end of file or EPIPE), but
    // keep the fd number taken until the source goes: it points at /dev/null
    // from here on.  Out of the epoll set first, while the number still
    // names the pipe (IoSource::deregister).
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        src->deregister();
        ::dup3(null_fd, src->fd(), O_CLOEXEC);
        ::close(null_fd);
    }
    return BRAID_OK;
}

void IoHandle::free() {
    if (src) {
        src->close();
        src->unref();
    }
    if (core) core->unref();
    src = nullptr;
    core = nullptr;
}

}  // namespace braid::detail
