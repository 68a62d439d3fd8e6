// File system calls for the blocking pool.  Every function blocks (it is
// meant to run on one of the runtime's blocking threads, never on a worker),
// returns BRAID_OK or a BRAID_E* code (errno recorded for
// braid_last_os_error), and closes every fd it opened on every path.
//
// Why the blocking pool and not libuv's fs functions: libuv runs fs requests
// on its own process-wide pool of 4 threads (shared with getaddrinfo), and a
// request must be submitted from the loop thread, so each operation would
// cost a hop to the reactor, a hop to libuv's pool and a hop back; braid's
// pool takes the job straight from the worker and grows to
// max_blocking_threads, so a slow disk does not hold up DNS or other files.
// It is what Tokio does too (tokio::fs is spawn_blocking).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace braid::detail::fs {

// braid_open_flags (fs.h) to open(2) flags: BRAID_EINVAL for a combination
// that makes no sense (no access mode, truncate without write, ...).
int open_flags(int braid_flags, int* out);
// Opens a file (not a directory: BRAID_EISDIR).  *fd is close-on-exec.
int open(const char* path, int braid_flags, unsigned mode, int* fd);

// One read/write at the file position (write: all of it).  Also for the
// standard streams (pipes, terminals): EAGAIN on an fd someone else made
// non-blocking waits with poll(2), and a write to a pipe whose reader went
// away is BRAID_EPIPE, never SIGPIPE.
int read(int fd, void* buf, std::size_t len, std::size_t* n);
int write_all(int fd, const void* buf, std::size_t len, std::size_t* n);
int seek(int fd, int64_t offset, int whence, int64_t* pos);
// A second fd for the same open file, close-on-exec (File::try_clone).
int duplicate(int fd, int* out);
int sync_all(int fd);
// File contents only, not every piece of metadata (fdatasync).
int sync_data(int fd);
int set_len(int fd, uint64_t len);

int read_file(const char* path, std::string* out);
// Creates or truncates.
int write_file(const char* path, const void* data, std::size_t len);
int create_dir(const char* path);
// Every missing parent too; an existing directory is fine.
int create_dir_all(const char* path);
// create_dir / create_dir_all with the permission bits `mode` (before the
// umask) for the directories it creates (DirBuilder).
int create_dir_mode(const char* path, bool recursive, unsigned mode);
int remove_file(const char* path);
int remove_dir(const char* path);
// The directory and everything under it (symlinks are removed, not followed).
int remove_dir_all(const char* path);
int rename(const char* from, const char* to);
// A new name for an existing file (link(2)).
int hard_link(const char* existing, const char* link);
// A symbolic link at `link` that points to `target` (symlink(2)).
int symlink(const char* target, const char* link);
// What a symbolic link points to.
int read_link(const char* path, std::string* out);
// The absolute path with every symbolic link, "." and ".." resolved.
int canonicalize(const char* path, std::string* out);
// Sets the permission bits (chmod(2); 0 .. 07777).
int set_permissions(const char* path, unsigned mode);
// 1 when the path exists (following symlinks), 0 when it does not
// (ENOENT, ENOTDIR), or a code when that cannot be told (EACCES ...).
int try_exists(const char* path);
// Copies contents and permission bits; *n: bytes copied.
int copy(const char* from, const char* to, uint64_t* n);
int stat(const char* path, bool follow, struct ::stat* st);
int fstat(int fd, struct ::stat* st);

struct DirEntry {
    std::string name;
    unsigned char type;  // DT_* of the entry (DT_UNKNOWN when the fs does not say)
};
// The entries of a directory, without "." and "..".
int read_dir(const char* path, std::vector<DirEntry>* out);

}  // namespace braid::detail::fs
