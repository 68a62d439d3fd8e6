/* braid — files and directories.  Part of the stable C ABI.
 *
 * Every operation runs on the runtime's blocking pool (its own threads,
 * never a worker, never libuv's 4-thread pool) and reports through a
 * callback on that pool thread, exactly once: its result, or
 * BRAID_ECANCELED when it was aborted through `out` (or the runtime shut
 * down) before it started.  An operation that has started runs to its end
 * (a syscall cannot be interrupted); aborting it then changes nothing.
 *
 * Paths are NUL-terminated and copied by the call.  Buffers passed to
 * braid_file_read/write must stay alive until the callback.  Errors:
 * BRAID_ENOENT (missing file or directory), BRAID_EACCES (permission
 * denied), BRAID_EISDIR (a directory given for a file), BRAID_ENOTDIR,
 * BRAID_EEXIST, BRAID_ENOTEMPTY, BRAID_EIO ...; braid_last_os_error gives
 * the errno inside the callback.
 */
#ifndef BRAID_FS_H
#define BRAID_FS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "error.h"
#include "io.h"
#include "runtime.h"
#include "task.h"

BRAID_EXTERN_C_BEGIN

typedef struct braid_file braid_file;
typedef struct braid_metadata braid_metadata;
typedef struct braid_dir_listing braid_dir_listing;

/* braid_file_open flags (Rust's OpenOptions): at least READ or WRITE (APPEND
 * implies WRITE); CREATE, CREATE_NEW (fails with BRAID_EEXIST if the file
 * exists) and TRUNCATE need write access; TRUNCATE and APPEND exclude each
 * other.  Anything else is BRAID_EINVAL. */
enum braid_open_flags {
    BRAID_FS_READ = 1,
    BRAID_FS_WRITE = 2,
    BRAID_FS_APPEND = 4,
    BRAID_FS_CREATE = 8,
    BRAID_FS_CREATE_NEW = 16,
    BRAID_FS_TRUNCATE = 32
};

enum braid_file_type {
    BRAID_FILE_TYPE_OTHER = 0,
    BRAID_FILE_TYPE_FILE = 1,
    BRAID_FILE_TYPE_DIR = 2,
    BRAID_FILE_TYPE_SYMLINK = 3
};

/* braid_file_seek's whence (the values of SEEK_SET, SEEK_CUR, SEEK_END). */
enum braid_seek { BRAID_SEEK_SET = 0, BRAID_SEEK_CUR = 1, BRAID_SEEK_END = 2 };

/* Callbacks: the object passed on BRAID_OK is the callee's (free it); NULL
 * otherwise.  braid_bytes_callback's data is valid during the call only. */
typedef void (*braid_file_callback)(void *user_data, int status, braid_file *file);
typedef void (*braid_metadata_callback)(void *user_data, int status, braid_metadata *metadata);
typedef void (*braid_dir_callback)(void *user_data, int status, braid_dir_listing *listing);
typedef void (*braid_bytes_callback)(void *user_data, int status, const void *data, size_t len);

/* ---- files --------------------------------------------------------------- */

/* Opens `path` with `flags` (braid_open_flags) and, when creating, `mode`
 * (e.g. 0644, before the umask).  A directory is refused (BRAID_EISDIR). */
BRAID_API int braid_file_open(braid_task **out, braid_runtime *rt, const char *path, int flags, unsigned mode,
                              braid_file_callback cb, void *user_data);
/* Reads up to len (> 0) bytes at the file position: n = 0 at end of file. */
BRAID_API int braid_file_read(braid_task **out, braid_file *f, void *buf, size_t len, braid_io_callback cb,
                              void *user_data);
/* Writes all len bytes at the file position (n: how many were written, also
 * on an error). */
BRAID_API int braid_file_write(braid_task **out, braid_file *f, const void *buf, size_t len, braid_io_callback cb,
                               void *user_data);
/* Flushes data and metadata to the disk (fsync). */
BRAID_API int braid_file_sync_all(braid_task **out, braid_file *f, braid_callback cb, void *user_data);
/* Flushes the data, and only the metadata needed to read it back
 * (fdatasync; Tokio's sync_data). */
BRAID_API int braid_file_sync_data(braid_task **out, braid_file *f, braid_callback cb, void *user_data);
/* Truncates or extends the file to len bytes. */
BRAID_API int braid_file_set_len(braid_task **out, braid_file *f, uint64_t len, braid_callback cb, void *user_data);
BRAID_API int braid_file_metadata(braid_task **out, braid_file *f, braid_metadata_callback cb, void *user_data);
/* Moves the file position (immediately, on the calling thread); *out_pos
 * (may be NULL) gets the new position.  BRAID_EBUSY while an operation on
 * the file is in flight (they share the position). */
BRAID_API int braid_file_seek(braid_file *f, int64_t offset, int whence, int64_t *out_pos);
/* The fd (still owned by the file), or BRAID_EINVAL. */
BRAID_API int braid_file_fd(const braid_file *f);
/* A second handle on the same open file (dup: it shares the position; its
 * operations are not serialised with f's).  Does not block.  BRAID_OK,
 * BRAID_EINVAL, BRAID_EMFILE (and the other dup errors), BRAID_ENOMEM. */
BRAID_API int braid_file_try_clone(braid_file **out, braid_file *f);
/* Closes and frees (an operation in flight keeps the fd open until it ends;
 * its callback still runs).  NULL ok. */
BRAID_API void braid_file_free(braid_file *f);

/* The standard streams (Tokio's stdin()/stdout()/stderr()): a braid_file
 * over a duplicate of fd 0, 1 or 2 (STDIN_FILENO ...), whatever it is (a
 * terminal, a file, a pipe shared with the parent), read with
 * braid_file_read and written with braid_file_write on the blocking pool
 * like any file (braid_file_seek works where the fd can seek).  The
 * duplicate shares the open file description with the fd, so nothing about
 * it changes: O_NONBLOCK is never set (the parent shell shares it); an fd
 * that someone else made non-blocking is waited for on the pool thread.
 * Freeing the handle closes the duplicate only.  Writes to a pipe whose
 * reader went away fail with BRAID_EPIPE, never SIGPIPE.
 *
 * A read that has started cannot be cancelled (aborting it changes
 * nothing, as for any file): a read of a terminal waits for a line or end
 * of file, and braid_runtime_free waits for it too.  Writes of one handle
 * are in order (one operation at a time); writes through several handles
 * (or other writers of the same fd) may interleave.
 *
 * rt NULL: the current runtime.  BRAID_OK; BRAID_EINVAL (out NULL, fd not
 * 0, 1 or 2, no runtime); BRAID_ESHUTDOWN; BRAID_EBADF when fd is not open;
 * BRAID_EMFILE; BRAID_ENOMEM. */
BRAID_API int braid_file_new_stdio(braid_file **out, braid_runtime *rt, int fd);

/* At most one operation per file at a time: the second is BRAID_EBUSY. */

/* ---- whole files and paths --------------------------------------------------- */

/* Reads the whole file: cb(user_data, BRAID_OK, data, len). */
BRAID_API int braid_fs_read(braid_task **out, braid_runtime *rt, const char *path, braid_bytes_callback cb,
                            void *user_data);
/* Creates or truncates `path` and writes len bytes (data is copied by the
 * call). */
BRAID_API int braid_fs_write(braid_task **out, braid_runtime *rt, const char *path, const void *data, size_t len,
                             braid_callback cb, void *user_data);
BRAID_API int braid_fs_create_dir(braid_task **out, braid_runtime *rt, const char *path, braid_callback cb,
                                  void *user_data);
/* Creates a directory with the permission bits `mode` (before the umask;
 * 0 .. 07777; Tokio's DirBuilder): recursive 0 as braid_fs_create_dir,
 * nonzero as braid_fs_create_dir_all (every missing parent gets `mode`). */
BRAID_API int braid_fs_create_dir_with(braid_task **out, braid_runtime *rt, const char *path, int recursive,
                                       unsigned mode, braid_callback cb, void *user_data);
/* Creates the directory and every missing parent; existing is fine. */
BRAID_API int braid_fs_create_dir_all(braid_task **out, braid_runtime *rt, const char *path, braid_callback cb,
                                      void *user_data);
/* Removes a file (or symlink); a directory is BRAID_EISDIR. */
BRAID_API int braid_fs_remove_file(braid_task **out, braid_runtime *rt, const char *path, braid_callback cb,
                                   void *user_data);
/* Removes an empty directory (BRAID_ENOTEMPTY otherwise). */
BRAID_API int braid_fs_remove_dir(braid_task **out, braid_runtime *rt, const char *path, braid_callback cb,
                                  void *user_data);
/* Removes a directory and everything under it (symlinks are not followed).
 * The root directory is refused before anything is touched, whatever path
 * names it ("/", "//", "/tmp/..": compared by device and inode, as rm
 * --preserve-root does): BRAID_EACCES, braid_last_os_error() EPERM. */
BRAID_API int braid_fs_remove_dir_all(braid_task **out, braid_runtime *rt, const char *path, braid_callback cb,
                                      void *user_data);
BRAID_API int braid_fs_rename(braid_task **out, braid_runtime *rt, const char *from, const char *to,
                              braid_callback cb, void *user_data);
/* A hard link `link` to the existing file `existing` (link(2)). */
BRAID_API int braid_fs_hard_link(braid_task **out, braid_runtime *rt, const char *existing, const char *link,
                                 braid_callback cb, void *user_data);
/* A symbolic link `link` pointing to `target` (symlink(2); target may be
 * relative and need not exist). */
BRAID_API int braid_fs_symlink(braid_task **out, braid_runtime *rt, const char *target, const char *link,
                               braid_callback cb, void *user_data);
/* What the symbolic link `path` points to: cb(user_data, BRAID_OK, target,
 * len) (not NUL-terminated; valid during the call). */
BRAID_API int braid_fs_read_link(braid_task **out, braid_runtime *rt, const char *path, braid_bytes_callback cb,
                                 void *user_data);
/* The absolute path with every symlink, "." and ".." resolved (realpath):
 * cb(user_data, BRAID_OK, path, len).  BRAID_ENOENT when it does not exist. */
BRAID_API int braid_fs_canonicalize(braid_task **out, braid_runtime *rt, const char *path, braid_bytes_callback cb,
                                    void *user_data);
/* Sets the permission bits (chmod; 0 .. 07777, else BRAID_EINVAL). */
BRAID_API int braid_fs_set_permissions(braid_task **out, braid_runtime *rt, const char *path, unsigned mode,
                                       braid_callback cb, void *user_data);
/* Whether the path exists (following symlinks): cb(user_data, 1) yes,
 * cb(user_data, 0) no (ENOENT, ENOTDIR), or an error code when that cannot
 * be told (BRAID_EACCES, ...).  Tokio's try_exists. */
BRAID_API int braid_fs_try_exists(braid_task **out, braid_runtime *rt, const char *path, braid_callback cb,
                                  void *user_data);
/* Copies contents and permission bits; n: the bytes copied.  A destination
 * that is the source file itself (the same path, another path to it, a
 * symlink to it or a hard link: the same device and inode) is refused before
 * it is truncated, as cp refuses "the same file": BRAID_EINVAL,
 * braid_last_os_error() EINVAL, the file untouched. */
BRAID_API int braid_fs_copy(braid_task **out, braid_runtime *rt, const char *from, const char *to,
                            braid_io_callback cb, void *user_data);
/* Metadata of `path` (follow_symlinks 0: of a symlink itself). */
BRAID_API int braid_fs_metadata(braid_task **out, braid_runtime *rt, const char *path, int follow_symlinks,
                                braid_metadata_callback cb, void *user_data);
/* The entries of a directory (without "." and ".."), all at once. */
BRAID_API int braid_fs_read_dir(braid_task **out, braid_runtime *rt, const char *path, braid_dir_callback cb,
                                void *user_data);

/* ---- metadata and listings ----------------------------------------------------- */

BRAID_API uint64_t braid_metadata_len(const braid_metadata *m);
/* A braid_file_type. */
BRAID_API int braid_metadata_type(const braid_metadata *m);
/* Permission bits (07777). */
BRAID_API unsigned braid_metadata_permissions(const braid_metadata *m);
/* Last modification and access, in nanoseconds since the Unix epoch. */
BRAID_API int64_t braid_metadata_modified_ns(const braid_metadata *m);
BRAID_API int64_t braid_metadata_accessed_ns(const braid_metadata *m);
BRAID_API void braid_metadata_free(braid_metadata *m);

BRAID_API size_t braid_dir_listing_count(const braid_dir_listing *d);
/* Entry i's name (valid until the listing is freed), NULL when i is out of
 * range. */
BRAID_API const char *braid_dir_listing_name(const braid_dir_listing *d, size_t i);
/* Entry i's braid_file_type (symlinks are not followed; OTHER when the file
 * system does not say), or BRAID_ERANGE. */
BRAID_API int braid_dir_listing_type(const braid_dir_listing *d, size_t i);
BRAID_API void braid_dir_listing_free(braid_dir_listing *d);

BRAID_EXTERN_C_END

#endif /* BRAID_FS_H */
