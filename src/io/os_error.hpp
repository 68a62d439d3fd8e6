// errno -> BRAID_E* codes for the I/O layer, and the errno behind the last
// I/O error on this thread (braid_last_os_error): the code says what kind of
// failure it was, the errno keeps the detail.
#pragma once

namespace braid::detail {

// Maps `e` (an errno value) to a BRAID_E* code and records it as this
// thread's last OS error.
int os_error(int e);
// Maps without recording.
int map_errno(int e);
// The errno recorded by the last os_error() on this thread (0: none).
int& last_os_error();

}  // namespace braid::detail
