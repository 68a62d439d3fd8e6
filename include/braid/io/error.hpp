// braid::IoError: the exception of the I/O layer.  It is a braid::Error (the
// BRAID_E* code says what kind of failure: ECONNREFUSED, ENOENT, ...) that
// also carries the operating system's errno (0 when the failure did not come
// from the OS, e.g. BRAID_EEOF or BRAID_ECLOSED).
#pragma once

#include <braid/error.hpp>
#include <braid/io.h>

#include <string>
#include <system_error>

namespace braid {

class IoError : public Error {
public:
    IoError(int code, int os_error, const std::string& what)
        : Error(code, os_error ? what + " (" + std::system_category().message(os_error) + ")" : what),
          os_error_(os_error) {}
    // The errno behind the failure, or 0.
    int os_error() const noexcept { return os_error_; }

private:
    int os_error_;
};

namespace detail {
// Throws IoError for a negative code (with errno when it came from the OS).
[[noreturn]] inline void throw_io(int code, int os_error, const char* what) { throw IoError(code, os_error, what); }
inline int check_io(int rc, const char* what) {
    if (rc < 0) throw_io(rc, braid_last_os_error(), what);
    return rc;
}
// The errno of a failure just returned on this thread, when the code is one
// that the OS produces (braid's own codes carry none).
inline int os_error_of(int code) {
    switch (code) {
        case BRAID_EINVAL: case BRAID_ECLOSED: case BRAID_EEOF: case BRAID_ESHUTDOWN: case BRAID_ECANCELED:
        case BRAID_EBUSY:
            return 0;
        default:
            return braid_last_os_error();
    }
}
}  // namespace detail

}  // namespace braid
