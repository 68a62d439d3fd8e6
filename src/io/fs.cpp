#include "io/fs.hpp"

#include <braid/error.h>
#include <braid/fs.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "io/no_sigpipe.hpp"
#include "io/os_error.hpp"

namespace braid::detail::fs {

namespace {

int err() { return os_error(errno); }

// Closes fd and returns rc (keeping errno's record of the first failure).
int close_with(int fd, int rc) {
    ::close(fd);
    return rc;
}

}  // namespace

int open_flags(int f, int* out) {
    constexpr int kAll = BRAID_FS_READ | BRAID_FS_WRITE | BRAID_FS_APPEND | BRAID_FS_CREATE | BRAID_FS_CREATE_NEW |
                         BRAID_FS_TRUNCATE;
    if (f & ~kAll) return BRAID_EINVAL;
    bool rd = f & BRAID_FS_READ, wr = f & (BRAID_FS_WRITE | BRAID_FS_APPEND);
    if (!rd && !wr) return BRAID_EINVAL;
    if ((f & (BRAID_FS_CREATE | BRAID_FS_CREATE_NEW | BRAID_FS_TRUNCATE)) && !wr) return BRAID_EINVAL;
    if ((f & BRAID_FS_TRUNCATE) && (f & BRAID_FS_APPEND)) return BRAID_EINVAL;
    int o = O_CLOEXEC | (rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY);
    if (f & BRAID_FS_APPEND) o |= O_APPEND;
    if (f & BRAID_FS_CREATE_NEW) o |= O_CREAT | O_EXCL;
    else if (f & BRAID_FS_CREATE) o |= O_CREAT;
    if (f & BRAID_FS_TRUNCATE) o |= O_TRUNC;
    *out = o;
    return BRAID_OK;
}

int open(const char* path, int braid_flags, unsigned mode, int* fd) {
    int o = 0;
    if (int rc = open_flags(braid_flags, &o)) return rc;
    int f;
    do {
        f = ::open(path, o, mode);
    } while (f < 0 && errno == EINTR);
    if (f < 0) return err();
    struct ::stat st;
    if (::fstat(f, &st) != 0) return close_with(f, err());
    if (S_ISDIR(st.st_mode)) return close_with(f, os_error(EISDIR));
    *fd = f;
    return BRAID_OK;
}

namespace {
// After EAGAIN: an fd that another process made non-blocking (a standard
// stream shared with the parent: O_NONBLOCK belongs to the open file
// description, not to the fd) is waited for with poll(2) here, on the
// blocking thread, rather than failing; braid never sets the flag itself.
int wait_ready(int fd, short events) {
    pollfd p{fd, events, 0};
    while (::poll(&p, 1, -1) < 0)
        if (errno != EINTR) return err();
    return BRAID_OK;
}
}  // namespace

int read(int fd, void* buf, std::size_t len, std::size_t* n) {
    for (;;) {
        ssize_t r = ::read(fd, buf, len);
        if (r >= 0) {
            *n = std::size_t(r);
            return BRAID_OK;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (int rc = wait_ready(fd, POLLIN)) return rc;
        } else if (errno != EINTR) {
            return err();
        }
    }
}

int write_all(int fd, const void* buf, std::size_t len, std::size_t* n) {
    std::size_t done = 0;
    while (done < len) {
        // A pipe or FIFO whose reader went away: EPIPE, never SIGPIPE.
        ssize_t r = no_sigpipe([&] { return ::write(fd, static_cast<const char*>(buf) + done, len - done); });
        if (r < 0) {
            int rc = errno == EAGAIN || errno == EWOULDBLOCK ? wait_ready(fd, POLLOUT)
                     : errno == EINTR                        ? BRAID_OK
                                                             : err();
            if (rc == BRAID_OK) continue;
            *n = done;
            return rc;
        }
        done += std::size_t(r);
    }
    *n = done;
    return BRAID_OK;
}

int seek(int fd, int64_t offset, int whence, int64_t* pos) {
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return BRAID_EINVAL;
    off_t r = ::lseek(fd, off_t(offset), whence);
    if (r < 0) return err();
    *pos = int64_t(r);
    return BRAID_OK;
}

int sync_all(int fd) { return ::fsync(fd) == 0 ? BRAID_OK : err(); }

int duplicate(int fd, int* out) {
    int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) return err();
    *out = d;
    return BRAID_OK;
}

int sync_data(int fd) { return ::fdatasync(fd) == 0 ? BRAID_OK : err(); }

int set_len(int fd, uint64_t len) {
    if (len > uint64_t(INT64_MAX)) return BRAID_ERANGE;
    return ::ftruncate(fd, off_t(len)) == 0 ? BRAID_OK : err();
}

int read_file(const char* path, std::string* out) {
    int fd = -1;
    if (int rc = open(path, BRAID_FS_READ, 0, &fd)) return rc;
    struct ::stat st;
    std::size_t hint = ::fstat(fd, &st) == 0 && st.st_size > 0 ? std::size_t(st.st_size) : 0;
    try {
        out->clear();
        out->reserve(hint + 1);
        char chunk[64 * 1024];
        for (;;) {
            std::size_t n = 0;
            if (int rc = read(fd, chunk, sizeof chunk, &n)) return close_with(fd, rc);
            if (n == 0) break;
            out->append(chunk, n);
        }
    } catch (...) {
        return close_with(fd, BRAID_ENOMEM);
    }
    ::close(fd);
    return BRAID_OK;
}

int write_file(const char* path, const void* data, std::size_t len) {
    int fd = -1;
    if (int rc = open(path, BRAID_FS_WRITE | BRAID_FS_CREATE | BRAID_FS_TRUNCATE, 0666, &fd)) return rc;
    std::size_t n = 0;
    if (int rc = write_all(fd, data, len, &n)) return close_with(fd, rc);
    if (::close(fd) != 0 && errno != EINTR) return err();
    return BRAID_OK;
}

int create_dir(const char* path) { return create_dir_mode(path, false, 0777); }

int create_dir_all(const char* path) { return create_dir_mode(path, true, 0777); }

int create_dir_mode(const char* path, bool recursive, unsigned mode) {
    if (!recursive) return ::mkdir(path, mode) == 0 ? BRAID_OK : err();
    std::string p(path);
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p.empty()) return BRAID_EINVAL;
    if (::mkdir(p.c_str(), mode) == 0) return BRAID_OK;
    int e = errno;
    struct ::stat st;
    if (e == EEXIST) {
        if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return BRAID_OK;
        return os_error(EEXIST);  // a file is in the way
    }
    if (e != ENOENT) return os_error(e);
    std::size_t slash = p.rfind('/');
    if (slash == std::string::npos || slash == 0) return os_error(e);
    if (int rc = create_dir_mode(p.substr(0, slash).c_str(), true, mode)) return rc;
    if (::mkdir(p.c_str(), mode) == 0) return BRAID_OK;
    if (errno == EEXIST && ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return BRAID_OK;  // a race: fine
    return err();
}

int remove_file(const char* path) {
    struct ::stat st;
    if (::lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) return os_error(EISDIR);
    return ::unlink(path) == 0 ? BRAID_OK : err();
}

int remove_dir(const char* path) { return ::rmdir(path) == 0 ? BRAID_OK : err(); }

namespace {

// Empties the directory open as dirfd (which this closes), recursively,
// without following symlinks.
int remove_contents(int dirfd) {
    DIR* d = ::fdopendir(dirfd);
    if (!d) return close_with(dirfd, err());
    int rc = BRAID_OK;
    for (;;) {
        errno = 0;
        dirent* e = ::readdir(d);
        if (!e) {
            if (errno) rc = err();
            break;
        }
        if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
        bool is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct ::stat st;
            if (::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) is_dir = S_ISDIR(st.st_mode);
        }
        if (is_dir) {
            int sub = ::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                rc = err();
                break;
            }
            if ((rc = remove_contents(sub)) != BRAID_OK) break;
            if (::unlinkat(dirfd, e->d_name, AT_REMOVEDIR) != 0) {
                rc = err();
                break;
            }
        } else if (::unlinkat(dirfd, e->d_name, 0) != 0) {
            rc = err();
            break;
        }
    }
    ::closedir(d);
    return rc;
}

}  // namespace

namespace {
// Whether st is the root directory "/" (by device and inode, as rm
// --preserve-root checks: "//", "/tmp/.." and a bind mount of / are it too).
bool is_root(const struct ::stat& st) {
    struct ::stat root;
    return ::stat("/", &root) == 0 && root.st_dev == st.st_dev && root.st_ino == st.st_ino;
}
bool same_file(const struct ::stat& a, const struct ::stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }
}  // namespace

int remove_dir_all(const char* path) {
    struct ::stat st;
    if (::lstat(path, &st) != 0) return err();
    if (!S_ISDIR(st.st_mode)) return os_error(ENOTDIR);
    // Never the root directory: refused before anything is touched.
    if (is_root(st)) return os_error(EPERM);
    int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return err();
    // The directory opened is the one checked (not one renamed into place).
    if (::fstat(fd, &st) != 0) return close_with(fd, err());
    if (is_root(st)) return close_with(fd, os_error(EPERM));
    if (int rc = remove_contents(fd)) return rc;
    return ::rmdir(path) == 0 ? BRAID_OK : err();
}

int rename(const char* from, const char* to) { return ::rename(from, to) == 0 ? BRAID_OK : err(); }

int hard_link(const char* existing, const char* link) { return ::link(existing, link) == 0 ? BRAID_OK : err(); }

int symlink(const char* target, const char* link) { return ::symlink(target, link) == 0 ? BRAID_OK : err(); }

int read_link(const char* path, std::string* out) {
    std::string buf(256, '\0');
    for (;;) {
        ssize_t n = ::readlink(path, buf.data(), buf.size());
        if (n < 0) return err();
        if (std::size_t(n) < buf.size()) {
            buf.resize(std::size_t(n));
            *out = std::move(buf);
            return BRAID_OK;
        }
        buf.resize(buf.size() * 2);  // it may have been cut: try a bigger buffer
    }
}

int canonicalize(const char* path, std::string* out) {
    char* p = ::realpath(path, nullptr);
    if (!p) return err();
    out->assign(p);
    std::free(p);
    return BRAID_OK;
}

int set_permissions(const char* path, unsigned mode) { return ::chmod(path, mode) == 0 ? BRAID_OK : err(); }

int try_exists(const char* path) {
    struct ::stat st;
    if (::stat(path, &st) == 0) return 1;
    if (errno == ENOENT || errno == ENOTDIR) return 0;
    return err();
}

int copy(const char* from, const char* to, uint64_t* n) {
    int in = -1;
    if (int rc = open(from, BRAID_FS_READ, 0, &in)) return rc;
    struct ::stat st;
    if (::fstat(in, &st) != 0) return close_with(in, err());
    // The destination may be the source itself (the same path, another
    // path to it, a symlink or a hard link): truncating it would empty the
    // source.  Refused (as cp refuses "the same file") before the
    // destination is truncated: checked by path first (a read-only source
    // could not be opened for writing), then on the opened file.
    struct ::stat dst;
    if (::stat(to, &dst) == 0 && same_file(st, dst)) return close_with(in, os_error(EINVAL));
    int out = ::open(to, O_WRONLY | O_CREAT | O_CLOEXEC, st.st_mode & 07777);
    if (out < 0) return close_with(in, err());
    int rc = BRAID_OK;
    if (::fstat(out, &dst) != 0) rc = err();
    else if (same_file(st, dst)) rc = os_error(EINVAL);
    else if (S_ISREG(dst.st_mode) && ::ftruncate(out, 0) != 0) rc = err();  // O_TRUNC's work, now that it is safe
    if (rc != BRAID_OK) {
        ::close(out);
        return close_with(in, rc);
    }
    uint64_t total = 0;
    for (;;) {
        ssize_t k = ::sendfile(out, in, nullptr, 1 << 30);
        if (k > 0) {
            total += uint64_t(k);
            continue;
        }
        if (k == 0) break;
        if (errno == EINTR) continue;
        if ((errno == EINVAL || errno == ENOSYS) && total == 0) {
            // sendfile cannot do these two: copy by hand.
            char buf[64 * 1024];
            for (;;) {
                std::size_t r = 0, w = 0;
                if ((rc = read(in, buf, sizeof buf, &r)) != BRAID_OK || r == 0) break;
                if ((rc = write_all(out, buf, r, &w)) != BRAID_OK) break;
                total += w;
            }
            break;
        }
        rc = err();
        break;
    }
    ::close(in);
    if (rc == BRAID_OK) ::fchmod(out, st.st_mode & 07777);
    if (::close(out) != 0 && rc == BRAID_OK && errno != EINTR) rc = err();
    *n = total;
    return rc;
}

int stat(const char* path, bool follow, struct ::stat* st) {
    return (follow ? ::stat(path, st) : ::lstat(path, st)) == 0 ? BRAID_OK : err();
}

int fstat(int fd, struct ::stat* st) { return ::fstat(fd, st) == 0 ? BRAID_OK : err(); }

int read_dir(const char* path, std::vector<DirEntry>* out) {
    int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return err();
    DIR* d = ::fdopendir(fd);
    if (!d) return close_with(fd, err());
    int rc = BRAID_OK;
    try {
        for (;;) {
            errno = 0;
            dirent* e = ::readdir(d);
            if (!e) {
                if (errno) rc = err();
                break;
            }
            if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
            out->push_back(DirEntry{e->d_name, e->d_type});
        }
    } catch (...) {
        rc = BRAID_ENOMEM;
    }
    ::closedir(d);
    return rc;
}

}  // namespace braid::detail::fs
