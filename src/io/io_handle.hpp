// The body of every socket and pipe handle of the C ABI (braid_tcp_stream,
// braid_unix_listener, braid_pipe, ...): the runtime it belongs to, its
// registered source and what kind of fd that is.  The handle owns one
// reference to the source; callback operations hold one more each, so
// freeing a handle under a pending operation is safe (the operation sees
// BRAID_ECLOSED).
#pragma once

#include <cstdint>

#include "io/io_driver.hpp"

namespace braid::detail {

// Which syscalls move a handle's bytes and how it closes.
enum class IoKind : uint8_t {
    Socket,  // recv/send; close shuts both directions down
    Pipe     // read/write; close points the fd at /dev/null
};

// Claim bits of IoSource::try_claim: one read-side and one write-side
// callback operation at a time.
constexpr uint8_t kClaimRead = 1;
constexpr uint8_t kClaimWrite = 2;

struct IoHandle {
    Core* core = nullptr;
    IoSource* src = nullptr;
    IoKind kind = IoKind::Socket;

    // Takes over the source's reference (and one of core).
    void adopt(Core* c, IoSource* s, IoKind k = IoKind::Socket);
    // BRAID_EINVAL for a NULL (or never-opened) handle, BRAID_ECLOSED after
    // close, else BRAID_OK.
    static int usable(const IoHandle* h);
    // What a callback operation needs before it starts on h: a usable
    // handle, a runtime not shutting down, and its side (`bit`, kClaim*)
    // free, which it then takes.  BRAID_OK, BRAID_EINVAL, BRAID_ECLOSED,
    // BRAID_ESHUTDOWN, BRAID_EBUSY.
    static int claim(IoHandle* h, uint8_t bit);
    // The fd, or BRAID_EINVAL.
    static int fd(const IoHandle* h);
    // The readiness of h for `interest` (BRAID_IO_READABLE and/or
    // BRAID_IO_WRITABLE): IoSource::poll_readiness, after the argument
    // checks of the C ABI (BRAID_EINVAL); a NULL wake removes data's
    // registration and returns BRAID_PENDING.
    static int poll_ready(IoHandle* h, int interest, braid_wake_fn wake, void* data, int* out);
    // Later operations fail with BRAID_ECLOSED, waiting ones complete with it;
    // the other side sees end of file.  The fd number stays taken until the
    // last reference goes, so a syscall racing with this never reaches a
    // reused number.  BRAID_OK also when closed already.
    int close();
    // Closes (if not yet) and lets go of the source and the runtime.
    void free();
};

// Removes what a callback operation registered on `src` for `dir` under its
// own task (`waker`: NULL when it was never polled, and so registered
// nothing); registrations of other pollers of the handle stay.
inline void unregister_own(IoSource* src, int dir, void* waker) {
    if (waker) src->unregister(dir, waker);
}

}  // namespace braid::detail
