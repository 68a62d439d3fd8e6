// extern "C" shims: files and directories, as operations on the blocking
// pool (see src/io/fs.hpp for why the pool and not libuv's fs requests).
#include <braid/fs.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "io/fs.hpp"
#include "shim.hpp"
#include "task/callback.hpp"

using braid::capi::core_or_current;
using braid::capi::guarded;
using braid::detail::Callback;
using braid::detail::Core;
namespace fsx = braid::detail::fs;

struct braid_file {
    Core* core;
    int fd;
    std::atomic<int> refs{1};      // the handle's, and one per operation in flight
    std::atomic<bool> busy{false}; // an operation is in flight
    braid_file(Core* c, int f) : core(c), fd(f) { c->ref(); }
    void ref() { refs.fetch_add(1, std::memory_order_relaxed); }
    void unref() {
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            ::close(fd);
            Core* c = core;
            delete this;
            c->unref();
        }
    }
};

struct braid_metadata {
    struct ::stat st;
};

struct braid_dir_listing {
    std::vector<fsx::DirEntry> entries;
};

namespace {

int type_of_mode(mode_t m) {
    if (S_ISREG(m)) return BRAID_FILE_TYPE_FILE;
    if (S_ISDIR(m)) return BRAID_FILE_TYPE_DIR;
    if (S_ISLNK(m)) return BRAID_FILE_TYPE_SYMLINK;
    return BRAID_FILE_TYPE_OTHER;
}

int type_of_dirent(unsigned char t) {
    switch (t) {
        case DT_REG: return BRAID_FILE_TYPE_FILE;
        case DT_DIR: return BRAID_FILE_TYPE_DIR;
        case DT_LNK: return BRAID_FILE_TYPE_SYMLINK;
        default: return BRAID_FILE_TYPE_OTHER;
    }
}

template <class Body, class... A>
int start(braid_task** out, Core* core, A&&... a) {
    return guarded([&] { return braid::detail::spawn_blocking_job<Body>(out, core, std::forward<A>(a)...); });
}

bool bad_path(const char* p) { return !p || !*p; }

// The runtime an operation runs on, after the common argument checks: a
// callback, a runtime (given or current, not shutting down) and every path
// named (not NULL, not empty). On failure *err says why and nullptr returns.
template <class... Paths>
Core* runtime_for(braid_task** out, braid_runtime* rt, const void* cb, int* err, Paths... paths) {
    if (out) *out = nullptr;
    Core* core = core_or_current(rt);
    if (!core || !cb) {
        *err = BRAID_EINVAL;
        return nullptr;
    }
    if (core->shutting_down()) {
        *err = BRAID_ESHUTDOWN;
        return nullptr;
    }
    if ((bad_path(paths) || ...)) {
        *err = BRAID_EINVAL;
        return nullptr;
    }
    return core;
}

// A file handle on a duplicate of fd (try_clone, the standard streams).
int new_duplicate(braid_file** out, Core* core, int fd) {
    int dup = -1;
    if (int rc = fsx::duplicate(fd, &dup)) return rc;
    auto* f = new (std::nothrow) braid_file(core, dup);
    if (!f) {
        ::close(dup);
        return BRAID_ENOMEM;
    }
    *out = f;
    return BRAID_OK;
}

// ---- bodies --------------------------------------------------------------------

struct PathBody {
    std::string path;
    int (*fn)(const char*);
    Callback<braid_callback> cb;
    void* ud;
    void run() { cb(ud, fn(path.c_str())); }
    void cancelled(int st) { cb(ud, st); }
};

// An operation on two paths that reports a status (rename, links).
struct TwoPathBody {
    std::string from, to;
    int (*fn)(const char*, const char*);
    Callback<braid_callback> cb;
    void* ud;
    void run() { cb(ud, fn(from.c_str(), to.c_str())); }
    void cancelled(int st) { cb(ud, st); }
};

// A path and permission bits (set_permissions, create_dir_with).
struct PathModeBody {
    std::string path;
    unsigned mode;
    int recursive;  // create_dir_with's; -1: set_permissions
    Callback<braid_callback> cb;
    void* ud;
    void run() {
        cb(ud, recursive < 0 ? fsx::set_permissions(path.c_str(), mode)
                             : fsx::create_dir_mode(path.c_str(), recursive != 0, mode));
    }
    void cancelled(int st) { cb(ud, st); }
};

struct CopyBody {
    std::string from, to;
    Callback<braid_io_callback> cb;
    void* ud;
    void run() {
        uint64_t n = 0;
        int rc = fsx::copy(from.c_str(), to.c_str(), &n);
        cb(ud, rc, size_t(n));
    }
    void cancelled(int st) { cb(ud, st, 0); }
};

// A path in, bytes out (read a file, read a link, canonicalize).
struct PathBytesBody {
    std::string path;
    int (*fn)(const char*, std::string*);
    Callback<braid_bytes_callback> cb;
    void* ud;
    void run() {
        std::string data;
        int rc = fn(path.c_str(), &data);
        if (rc == BRAID_OK) cb.call_with_bytes(ud, BRAID_OK, data.data(), data.size());
        else cb(ud, rc, nullptr, 0);
    }
    void cancelled(int st) { cb(ud, st, nullptr, 0); }
};

struct WriteFileBody {
    std::string path;
    std::string data;
    Callback<braid_callback> cb;
    void* ud;
    void run() { cb(ud, fsx::write_file(path.c_str(), data.data(), data.size())); }
    void cancelled(int st) { cb(ud, st); }
};

struct MetadataBody {
    std::string path;
    bool follow;
    braid_file* file;  // or a file (ref held)
    Callback<braid_metadata_callback> cb;
    void* ud;
    void run() {
        auto* m = new (std::nothrow) braid_metadata;
        int rc = m ? (file ? fsx::fstat(file->fd, &m->st) : fsx::stat(path.c_str(), follow, &m->st)) : BRAID_ENOMEM;
        done();
        if (rc != BRAID_OK) {
            delete m;
            m = nullptr;
        }
        cb(ud, rc, m);
    }
    void cancelled(int st) {
        done();
        cb(ud, st, nullptr);
    }
    void done() {
        if (file) file->busy.store(false, std::memory_order_release);
    }
    ~MetadataBody() {
        if (file) file->unref();
    }
};

struct ReadDirBody {
    std::string path;
    Callback<braid_dir_callback> cb;
    void* ud;
    void run() {
        auto* d = new (std::nothrow) braid_dir_listing;
        int rc = d ? fsx::read_dir(path.c_str(), &d->entries) : BRAID_ENOMEM;
        if (rc != BRAID_OK) {
            delete d;
            d = nullptr;
        }
        cb(ud, rc, d);
    }
    void cancelled(int st) { cb(ud, st, nullptr); }
};

struct OpenBody {
    std::string path;
    int flags;
    unsigned mode;
    Core* core;
    Callback<braid_file_callback> cb;
    void* ud;
    void run() {
        int fd = -1;
        int rc = fsx::open(path.c_str(), flags, mode, &fd);
        braid_file* f = nullptr;
        if (rc == BRAID_OK) {
            f = new (std::nothrow) braid_file(core, fd);
            if (!f) {
                ::close(fd);
                rc = BRAID_ENOMEM;
            }
        }
        cb(ud, rc, f);
    }
    void cancelled(int st) { cb(ud, st, nullptr); }
};

// read / write / sync / set_len on an open file.
struct FileBody {
    enum Kind { Read, Write, Sync, SyncData, SetLen } kind;
    braid_file* f;  // a reference is held
    void* buf;
    size_t len;
    uint64_t new_len;
    Callback<braid_io_callback> io_cb;
    Callback<braid_callback> cb;
    void* ud;
    void run() {
        size_t n = 0;
        int rc;
        switch (kind) {
            case Read: rc = fsx::read(f->fd, buf, len, &n); break;
            case Write: rc = fsx::write_all(f->fd, buf, len, &n); break;
            case Sync: rc = fsx::sync_all(f->fd); break;
            case SyncData: rc = fsx::sync_data(f->fd); break;
            default: rc = fsx::set_len(f->fd, new_len); break;
        }
        f->busy.store(false, std::memory_order_release);
        if (io_cb) io_cb(ud, rc, n);
        else cb(ud, rc);
    }
    void cancelled(int st) {
        f->busy.store(false, std::memory_order_release);
        if (io_cb) io_cb(ud, st, 0);
        else cb(ud, st);
    }
    ~FileBody() { f->unref(); }
};

// Claims the file for one operation and takes a reference for it.
int claim(braid_file* f, braid_task** out) {
    if (out) *out = nullptr;
    if (!f) return BRAID_EINVAL;
    if (f->core->shutting_down()) return BRAID_ESHUTDOWN;
    if (f->busy.exchange(true, std::memory_order_acq_rel)) return BRAID_EBUSY;
    f->ref();
    return BRAID_OK;
}

// After a failed start: the operation's state either never existed (ENOMEM:
// drop the reference here) or will be released by the runtime (its
// destructor drops it).  Either way the claim ends.
int unclaim_on_failure(braid_file* f, int rc) {
    if (rc == BRAID_OK) return rc;
    f->busy.store(false, std::memory_order_release);
    if (rc == BRAID_ENOMEM) f->unref();
    return rc;
}

int file_op(braid_task** out, braid_file* f, FileBody::Kind kind, void* buf, size_t len, uint64_t new_len,
            braid_io_callback io_cb, braid_callback cb, void* ud) {
    if (int rc = claim(f, out)) return rc;
    int rc = start<FileBody>(out, f->core, kind, f, buf, len, new_len, io_cb, cb, ud);
    return unclaim_on_failure(f, rc);
}

int path_op(braid_task** out, braid_runtime* rt, const char* path, int (*fn)(const char*), braid_callback cb,
            void* ud) {
    int err = 0;
    Core* core = runtime_for(out, rt, reinterpret_cast<const void*>(cb), &err, path);
    if (!core) return err;
    return start<PathBody>(out, core, std::string(path), fn, cb, ud);
}

int two_path_op(braid_task** out, braid_runtime* rt, const char* from, const char* to,
                int (*fn)(const char*, const char*), braid_callback cb, void* ud) {
    int err = 0;
    Core* core = runtime_for(out, rt, reinterpret_cast<const void*>(cb), &err, from, to);
    if (!core) return err;
    return start<TwoPathBody>(out, core, std::string(from), std::string(to), fn, cb, ud);
}

int path_bytes_op(braid_task** out, braid_runtime* rt, const char* path, int (*fn)(const char*, std::string*),
                  braid_bytes_callback cb, void* ud) {
    int err = 0;
    Core* core = runtime_for(out, rt, reinterpret_cast<const void*>(cb), &err, path);
    if (!core) return err;
    return start<PathBytesBody>(out, core, std::string(path), fn, cb, ud);
}

int path_mode_op(braid_task** out, braid_runtime* rt, const char* path, unsigned mode, int recursive,
                 braid_callback cb, void* ud) {
    int err = 0;
    Core* core = runtime_for(out, rt, reinterpret_cast<const void*>(cb), &err, path);
    if (!core) return err;
    if (mode > 07777) return BRAID_EINVAL;
    return start<PathModeBody>(out, core, std::string(path), mode, recursive, cb, ud);
}

}  // namespace

extern "C" {

// ---- files -----------------------------------------------------------------------

BRAID_API int braid_file_open(braid_task** out, braid_runtime* rt, const char* path, int flags, unsigned mode,
                              braid_file_callback cb, void* user_data) {
    int err = 0;
    Core* core = runtime_for(out, rt, reinterpret_cast<const void*>(cb), &err, path);
    if (!core) return err;
    int oflags = 0;
    if (int rc = fsx::open_flags(flags, &oflags)) return rc;
    if (mode > 07777) return BRAID_EINVAL;
    return start<OpenBody>(out, core, std::string(path), flags, mode, core, cb, user_data);
}

BRAID_API int braid_file_read(braid_task** out, braid_file* f, void* buf, size_t len, braid_io_callback cb,
                              void* user_data) {
    if (out) *out = nullptr;
    if (!cb || !buf || len == 0) return BRAID_EINVAL;
    return file_op(out, f, FileBody::Read, buf, len, 0, cb, nullptr, user_data);
}

BRAID_API int braid_file_write(braid_task** out, braid_file* f, const void* buf, size_t len, braid_io_callback cb,
                               void* user_data) {
    if (out) *out = nullptr;
    if (!cb || (!buf && len)) return BRAID_EINVAL;
    return file_op(out, f, FileBody::Write, const_cast<void*>(buf), len, 0, cb, nullptr, user_data);
}

BRAID_API int braid_file_sync_all(braid_task** out, braid_file* f, braid_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!cb) return BRAID_EINVAL;
    return file_op(out, f, FileBody::Sync, nullptr, 0, 0, nullptr, cb, user_data);
}

BRAID_API int braid_file_sync_data(braid_task** out, braid_file* f, braid_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!cb) return BRAID_EINVAL;
    return file_op(out, f, FileBody::SyncData, nullptr, 0, 0, nullptr, cb, user_data);
}

BRAID_API int braid_file_try_clone(braid_file** out, braid_file* f) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (!f) return BRAID_EINVAL;
    return new_duplicate(out, f->core, f->fd);
}

BRAID_API int braid_file_new_stdio(braid_file** out, braid_runtime* rt, int fd) {
    if (!out) return BRAID_EINVAL;
    *out = nullptr;
    if (fd < 0 || fd > 2) return BRAID_EINVAL;
    Core* core = core_or_current(rt);
    if (!core) return BRAID_EINVAL;
    if (core->shutting_down()) return BRAID_ESHUTDOWN;
    // A duplicate: it shares the open file description (and so its flags:
    // O_NONBLOCK is never set here) and closing it leaves fd open.
    return new_duplicate(out, core, fd);
}

BRAID_API int braid_file_set_len(braid_task** out, braid_file* f, uint64_t len, braid_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!cb) return BRAID_EINVAL;
    if (len > uint64_t(INT64_MAX)) return BRAID_ERANGE;
    return file_op(out, f, FileBody::SetLen, nullptr, 0, len, nullptr, cb, user_data);
}

BRAID_API int braid_file_metadata(braid_task** out, braid_file* f, braid_metadata_callback cb, void* user_data) {
    if (out) *out = nullptr;
    if (!cb) return BRAID_EINVAL;
    if (int rc = claim(f, out)) return rc;
    int rc = start<MetadataBody>(out, f->core, std::string(), true, f, cb, user_data);
    return unclaim_on_failure(f, rc);
}

BRAID_API int braid_file_seek(braid_file* f, int64_t offset, int whence, int64_t* out_pos) {
    if (!f) return BRAID_EINVAL;
    if (f->busy.exchange(true, std::memory_order_acq_rel)) return BRAID_EBUSY;
    int64_t pos = 0;
    int rc = fsx::seek(f->fd, offset, whence, &pos);
    f->busy.store(false, std::memory_order_release);
    if (rc == BRAID_OK && out_pos) *out_pos = pos;
    return rc;
}

BRAID_API int braid_file_fd(const braid_file* f) { return f ? f->fd : BRAID_EINVAL; }

BRAID_API void braid_file_free(braid_file* f) {
    if (f) f->unref();
}

// ---- whole files and paths ---------------------------------------------------------

BRAID_API int braid_fs_read(braid_task** out, braid_runtime* rt, const char* path, braid_bytes_callback cb,
                            void* user_data) {
    return path_bytes_op(out, rt, path, &fsx::read_file, cb, user_data);
}

BRAID_API int braid_fs_write(braid_task** out, braid_runtime* rt, const char* path, const void* data, size_t len,
                             braid_callback cb, void* user_data) {
    int err = 0;
    Core* core = runtime_for(out, rt, reinterpret_cast<const void*>(cb), &err, path);
    if (!core) return err;
    if ((!data && len)) return BRAID_EINVAL;
    return guarded([&] {
        std::string copy(static_cast<const char*>(data), len);
        return start<WriteFileBody>(out, core, std::string(path), std::move(copy), cb, user_data);
    });
}

BRAID_API int braid_fs_create_dir(braid_task** out, braid_runtime* rt, const char* path, braid_callback cb,
                                  void* user_data) {
    return path_op(out, rt, path, &fsx::create_dir, cb, user_data);
}

BRAID_API int braid_fs_create_dir_all(braid_task** out, braid_runtime* rt, const char* path, braid_callback cb,
                                      void* user_data) {
    return path_op(out, rt, path, &fsx::create_dir_all, cb, user_data);
}

BRAID_API int braid_fs_remove_file(braid_task** out, braid_runtime* rt, const char* path, braid_callback cb,
                                   void* user_data) {
    return path_op(out, rt, path, &fsx::remove_file, cb, user_data);
}

BRAID_API int braid_fs_remove_dir(braid_task** out, braid_runtime* rt, const char* path, braid_callback cb,
                                  void* user_data) {
    return path_op(out, rt, path, &fsx::remove_dir, cb, user_data);
}

BRAID_API int braid_fs_remove_dir_all(braid_task** out, braid_runtime* rt, const char* path, braid_callback cb,
                                      void* user_data) {
    return path_op(out, rt, path, &fsx::remove_dir_all, cb, user_data);
}

BRAID_API int braid_fs_rename(braid_task** out, braid_runtime* rt, const char* from, const char* to,
                              braid_callback cb, void* user_data) {
    return two_path_op(out, rt, from, to, &fsx::rename, cb, user_data);
}

BRAID_API int braid_fs_hard_link(braid_task** out, braid_runtime* rt, const char* existing, const char* link,
                                 braid_callback cb, void* user_data) {
    return two_path_op(out, rt, existing, link, &fsx::hard_link, cb, user_data);
}

BRAID_API int braid_fs_symlink(braid_task** out, braid_runtime* rt, const char* target, const char* link,
                               braid_callback cb, void* user_data) {
    return two_path_op(out, rt, target, link, &fsx::symlink, cb, user_data);
}

BRAID_API int braid_fs_read_link(braid_task** out, braid_runtime* rt, const char* path, braid_bytes_callback cb,
                                 void* user_data) {
    return path_bytes_op(out, rt, path, &fsx::read_link, cb, user_data);
}

BRAID_API int braid_fs_canonicalize(braid_task** out, braid_runtime* rt, const char* path, braid_bytes_callback cb,
                                    void* user_data) {
    return path_bytes_op(out, rt, path, &fsx::canonicalize, cb, user_data);
}

BRAID_API int braid_fs_set_permissions(braid_task** out, braid_runtime* rt, const char* path, unsigned mode,
                                       braid_callback cb, void* user_data) {
    return path_mode_op(out, rt, path, mode, -1, cb, user_data);
}

BRAID_API int braid_fs_create_dir_with(braid_task** out, braid_runtime* rt, const char* path, int recursive,
                                       unsigned mode, braid_callback cb, void* user_data) {
    return path_mode_op(out, rt, path, mode, recursive ? 1 : 0, cb, user_data);
}

BRAID_API int braid_fs_try_exists(braid_task** out, braid_runtime* rt, const char* path, braid_callback cb,
                                  void* user_data) {
    return path_op(out, rt, path, &fsx::try_exists, cb, user_data);
}

BRAID_API int braid_fs_copy(braid_task** out, braid_runtime* rt, const char* from, const char* to,
                            braid_io_callback cb, void* user_data) {
    int err = 0;
    Core* core = runtime_for(out, rt, reinterpret_cast<const void*>(cb), &err, from, to);
    if (!core) return err;
    return start<CopyBody>(out, core, std::string(from), std::string(to), cb, user_data);
}

BRAID_API int braid_fs_metadata(braid_task** out, braid_runtime* rt, const char* path, int follow_symlinks,
                                braid_metadata_callback cb, void* user_data) {
    int err = 0;
    Core* core = runtime_for(out, rt, reinterpret_cast<const void*>(cb), &err, path);
    if (!core) return err;
    return start<MetadataBody>(out, core, std::string(path), follow_symlinks != 0, static_cast<braid_file*>(nullptr),
                               cb, user_data);
}

BRAID_API int braid_fs_read_dir(braid_task** out, braid_runtime* rt, const char* path, braid_dir_callback cb,
                                void* user_data) {
    int err = 0;
    Core* core = runtime_for(out, rt, reinterpret_cast<const void*>(cb), &err, path);
    if (!core) return err;
    return start<ReadDirBody>(out, core, std::string(path), cb, user_data);
}

// ---- metadata and listings -------------------------------------------------------------

BRAID_API uint64_t braid_metadata_len(const braid_metadata* m) { return m ? uint64_t(m->st.st_size) : 0; }
BRAID_API int braid_metadata_type(const braid_metadata* m) {
    return m ? type_of_mode(m->st.st_mode) : BRAID_EINVAL;
}
BRAID_API unsigned braid_metadata_permissions(const braid_metadata* m) { return m ? unsigned(m->st.st_mode & 07777) : 0; }
BRAID_API int64_t braid_metadata_modified_ns(const braid_metadata* m) {
    return m ? int64_t(m->st.st_mtim.tv_sec) * 1000000000 + m->st.st_mtim.tv_nsec : 0;
}
BRAID_API int64_t braid_metadata_accessed_ns(const braid_metadata* m) {
    return m ? int64_t(m->st.st_atim.tv_sec) * 1000000000 + m->st.st_atim.tv_nsec : 0;
}
BRAID_API void braid_metadata_free(braid_metadata* m) { delete m; }

BRAID_API size_t braid_dir_listing_count(const braid_dir_listing* d) { return d ? d->entries.size() : 0; }
BRAID_API const char* braid_dir_listing_name(const braid_dir_listing* d, size_t i) {
    return d && i < d->entries.size() ? d->entries[i].name.c_str() : nullptr;
}
BRAID_API int braid_dir_listing_type(const braid_dir_listing* d, size_t i) {
    if (!d || i >= d->entries.size()) return BRAID_ERANGE;
    return type_of_dirent(d->entries[i].type);
}
BRAID_API void braid_dir_listing_free(braid_dir_listing* d) { delete d; }

}  // extern "C"
