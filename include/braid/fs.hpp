// braid::fs: files and directories on the runtime's blocking pool (C ABI:
// braid/fs.h; why the pool and not libuv's fs requests: docs/io.md).
//
//   std::string text = co_await braid::fs::read_to_string("config.toml");
//   co_await braid::fs::write("out.bin", bytes);
//   co_await braid::fs::create_dir_all("a/b/c");
//   auto f = co_await braid::fs::OpenOptions().write(true).create(true).append(true).open("log.txt");
//   co_await f.write_all("line\n");
//   auto entries = braid::fs::read_dir(".");
//   while (auto e = co_await entries.next()) std::puts(e->file_name().c_str());
//
// Errors throw braid::IoError: BRAID_ENOENT (missing), BRAID_EACCES
// (permission denied), BRAID_EISDIR (a directory given for a file),
// BRAID_ENOTDIR, BRAID_EEXIST, BRAID_ENOTEMPTY; a path with an embedded NUL
// throws IoError(BRAID_EINVAL) at the call.
//
// Cancellation: an operation that has not started on the pool is dropped;
// one that has started runs to its end, and its result is discarded (for a
// read: the bytes are consumed from the file position).  So file reads and
// writes are not cancel-safe; the whole-file and path operations are safe to
// drop but may still take effect.
#pragma once

#include <braid/detail/callback_op.hpp>
#include <braid/fs.h>
#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/stream/generator.hpp>

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace braid::fs {

enum class FileType { Other = BRAID_FILE_TYPE_OTHER, File = BRAID_FILE_TYPE_FILE, Dir = BRAID_FILE_TYPE_DIR, Symlink = BRAID_FILE_TYPE_SYMLINK };

struct Metadata {
    uint64_t len = 0;
    FileType type = FileType::Other;
    unsigned permissions = 0;
    int64_t modified_ns = 0;  // since the Unix epoch
    int64_t accessed_ns = 0;
    bool is_file() const { return type == FileType::File; }
    bool is_dir() const { return type == FileType::Dir; }
    bool is_symlink() const { return type == FileType::Symlink; }
};

struct DirEntry {
    std::string dir;
    std::string name;
    FileType type = FileType::Other;  // of the entry itself (a symlink is Symlink); Other if unknown
    const std::string& file_name() const { return name; }
    std::string path() const { return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name; }
    FileType file_type() const { return type; }
};

namespace detail {

using braid::detail::CallbackAwaiter;

// A NUL-terminated copy of a path (BRAID_EINVAL for an embedded NUL).
inline std::string c_path(std::string_view p) {
    if (p.find('\0') != std::string_view::npos) throw IoError(BRAID_EINVAL, 0, "path with an embedded NUL");
    return std::string(p);
}

inline Metadata to_metadata(const braid_metadata* m) {
    return Metadata{braid_metadata_len(m), FileType(braid_metadata_type(m)), braid_metadata_permissions(m),
                    braid_metadata_modified_ns(m), braid_metadata_accessed_ns(m)};
}

// The result of a path operation with no value.
struct Unit {};

// An operation on one or two paths that reports only a status.
class [[nodiscard]] PathOp : public CallbackAwaiter<PathOp, Unit> {
public:
    using Fn = int (*)(braid_task**, braid_runtime*, const char*, braid_callback, void*);
    using Fn2 = int (*)(braid_task**, braid_runtime*, const char*, const char*, braid_callback, void*);
    PathOp(Fn f, std::string_view p, const char* what) : f_(f), a_(c_path(p)), what_(what) {}
    PathOp(Fn2 f, std::string_view a, std::string_view b, const char* what)
        : f2_(f), a_(c_path(a)), b_(c_path(b)), what_(what) {}
    int start(State* s, braid_task** out) {
        return f_ ? f_(out, nullptr, a_.c_str(), &on_done, s) : f2_(out, nullptr, a_.c_str(), b_.c_str(), &on_done, s);
    }
    void result(State&) {}
    std::string what() const { return std::string(what_) + "(" + a_ + ")"; }

private:
    static void on_done(void* p, int st) { static_cast<State*>(p)->complete(st); }
    Fn f_ = nullptr;
    Fn2 f2_ = nullptr;
    std::string a_, b_;
    const char* what_;
};

struct Bytes {
    std::string data;
    std::size_t n = 0;
};

// A path in, bytes out: read a file, read a link, canonicalize.
class [[nodiscard]] ReadFileOp : public CallbackAwaiter<ReadFileOp, Bytes> {
public:
    using Fn = int (*)(braid_task**, braid_runtime*, const char*, braid_bytes_callback, void*);
    ReadFileOp(std::string_view p, bool text) : ReadFileOp(&braid_fs_read, p, text ? "read_to_string" : "read") {}
    ReadFileOp(Fn f, std::string_view p, const char* what) : f_(f), path_(c_path(p)), what_(what) {}
    int start(State* s, braid_task** out) { return f_(out, nullptr, path_.c_str(), &on_done, s); }
    std::string result(State& s) { return std::move(s.value.data); }
    std::string what() const { return std::string(what_) + "(" + path_ + ")"; }

private:
    static void on_done(void* p, int st, const void* data, std::size_t len) {
        auto* s = static_cast<State*>(p);
        if (st == BRAID_OK) {
            try {
                s->value.data.assign(static_cast<const char*>(data), len);
            } catch (...) {
                st = BRAID_ENOMEM;
            }
        }
        s->complete(st);
    }
    Fn f_;
    std::string path_;
    const char* what_;
};

// try_exists: a yes/no answer.
class [[nodiscard]] ExistsOp : public CallbackAwaiter<ExistsOp, Bytes> {
public:
    explicit ExistsOp(std::string_view p) : path_(c_path(p)) {}
    int start(State* s, braid_task** out) { return braid_fs_try_exists(out, nullptr, path_.c_str(), &on_done, s); }
    bool result(State& s) { return s.value.n == 1; }
    std::string what() const { return "try_exists(" + path_ + ")"; }

private:
    static void on_done(void* p, int st) {
        auto* s = static_cast<State*>(p);
        s->value.n = st > 0 ? 1 : 0;
        s->complete(st > 0 ? BRAID_OK : st);
    }
    std::string path_;
};

// set_permissions and DirBuilder::create: a path and permission bits.
class [[nodiscard]] PathModeOp : public CallbackAwaiter<PathModeOp, Unit> {
public:
    // recursive < 0: set_permissions; else create_dir_with.
    PathModeOp(std::string_view p, unsigned mode, int recursive) : path_(c_path(p)), mode_(mode), rec_(recursive) {}
    int start(State* s, braid_task** out) {
        if (rec_ < 0) return braid_fs_set_permissions(out, nullptr, path_.c_str(), mode_, &on_done, s);
        return braid_fs_create_dir_with(out, nullptr, path_.c_str(), rec_, mode_, &on_done, s);
    }
    void result(State&) {}
    std::string what() const { return (rec_ < 0 ? "set_permissions(" : "DirBuilder::create(") + path_ + ")"; }

private:
    static void on_done(void* p, int st) { static_cast<State*>(p)->complete(st); }
    std::string path_;
    unsigned mode_;
    int rec_;
};

class [[nodiscard]] WriteFileOp : public CallbackAwaiter<WriteFileOp, Unit> {
public:
    WriteFileOp(std::string_view p, io::ConstBuffer b) : path_(c_path(p)), b_(b) {}
    // The C call copies the bytes: the caller's buffer may go after start.
    int start(State* s, braid_task** out) { return braid_fs_write(out, nullptr, path_.c_str(), b_.data, b_.size, &on_done, s); }
    void result(State&) {}
    std::string what() const { return "write(" + path_ + ")"; }

private:
    static void on_done(void* p, int st) { static_cast<State*>(p)->complete(st); }
    std::string path_;
    io::ConstBuffer b_;
};

class [[nodiscard]] CopyOp : public CallbackAwaiter<CopyOp, Bytes> {
public:
    CopyOp(std::string_view from, std::string_view to) : from_(c_path(from)), to_(c_path(to)) {}
    int start(State* s, braid_task** out) { return braid_fs_copy(out, nullptr, from_.c_str(), to_.c_str(), &on_done, s); }
    uint64_t result(State& s) { return s.value.n; }
    std::string what() const { return "copy(" + from_ + ", " + to_ + ")"; }

private:
    static void on_done(void* p, int st, std::size_t n) {
        static_cast<State*>(p)->value.n = n;
        static_cast<State*>(p)->complete(st);
    }
    std::string from_, to_;
};

class [[nodiscard]] MetadataOp : public CallbackAwaiter<MetadataOp, Metadata> {
public:
    MetadataOp(std::string_view p, bool follow) : path_(c_path(p)), follow_(follow) {}
    explicit MetadataOp(braid_file* f) : file_(f) {}
    int start(State* s, braid_task** out) {
        return file_ ? braid_file_metadata(out, file_, &on_done, s)
                     : braid_fs_metadata(out, nullptr, path_.c_str(), follow_, &on_done, s);
    }
    Metadata result(State& s) { return s.value; }
    std::string what() const { return "metadata(" + path_ + ")"; }

private:
    static void on_done(void* p, int st, braid_metadata* m) {
        auto* s = static_cast<State*>(p);
        if (m) s->value = to_metadata(m);
        braid_metadata_free(m);
        s->complete(st);
    }
    std::string path_;
    bool follow_ = true;
    braid_file* file_ = nullptr;
};

class [[nodiscard]] ReadDirOp : public CallbackAwaiter<ReadDirOp, std::vector<DirEntry>> {
public:
    explicit ReadDirOp(std::string p) : path_(std::move(p)) {}
    int start(State* s, braid_task** out) { return braid_fs_read_dir(out, nullptr, path_.c_str(), &on_done, s); }
    std::vector<DirEntry> result(State& s) {
        for (auto& e : s.value) e.dir = path_;
        return std::move(s.value);
    }
    std::string what() const { return "read_dir(" + path_ + ")"; }

private:
    static void on_done(void* p, int st, braid_dir_listing* d) {
        auto* s = static_cast<State*>(p);
        try {
            for (std::size_t i = 0, n = braid_dir_listing_count(d); i < n; ++i)
                s->value.push_back(DirEntry{std::string(), braid_dir_listing_name(d, i), FileType(braid_dir_listing_type(d, i))});
        } catch (...) {
            st = BRAID_ENOMEM;
        }
        braid_dir_listing_free(d);
        s->complete(st);
    }
    std::string path_;
};

struct FileFree {
    void operator()(braid_file* f) const { braid_file_free(f); }
};
using FilePtr = std::unique_ptr<braid_file, FileFree>;

}  // namespace detail

class File;

namespace detail {
class [[nodiscard]] OpenOp : public CallbackAwaiter<OpenOp, FilePtr> {
public:
    OpenOp(std::string_view p, int flags, unsigned mode) : path_(c_path(p)), flags_(flags), mode_(mode) {}
    int start(State* s, braid_task** out) {
        return braid_file_open(out, nullptr, path_.c_str(), flags_, mode_, &on_done, s);
    }
    File result(State& s);
    std::string what() const { return "open(" + path_ + ")"; }

private:
    static void on_done(void* p, int st, braid_file* f) {
        static_cast<State*>(p)->value.reset(f);
        static_cast<State*>(p)->complete(st);
    }
    std::string path_;
    int flags_;
    unsigned mode_;
};

// read / write / sync_all / set_len on an open file.
class [[nodiscard]] FileOp : public CallbackAwaiter<FileOp, Bytes> {
public:
    enum Kind { Read, Write, Sync, SyncData, SetLen };
    FileOp(braid_file* f, Kind k, io::MutableBuffer dst, io::ConstBuffer src, uint64_t len)
        : f_(f), kind_(k), dst_(dst), src_(src), len_(len) {}
    int start(State* s, braid_task** out) {
        switch (kind_) {
            case Read:
                if (dst_.size == 0) return BRAID_EINVAL;
                s->value.data.resize(dst_.size);  // the job reads into the state, not the caller's buffer
                return braid_file_read(out, f_, s->value.data.data(), dst_.size, &on_io, s);
            case Write:
                s->value.data.assign(static_cast<const char*>(src_.data), src_.size);
                return braid_file_write(out, f_, s->value.data.data(), src_.size, &on_io, s);
            case Sync: return braid_file_sync_all(out, f_, &on_status, s);
            case SyncData: return braid_file_sync_data(out, f_, &on_status, s);
            default: return braid_file_set_len(out, f_, len_, &on_status, s);
        }
    }
    std::size_t result(State& s) {
        if (kind_ == Read) std::memcpy(dst_.data, s.value.data.data(), s.value.n);
        return s.value.n;
    }
    const char* what() const {
        switch (kind_) {
            case Read: return "File::read";
            case Write: return "File::write";
            case Sync: return "File::sync_all";
            case SyncData: return "File::sync_data";
            default: return "File::set_len";
        }
    }

private:
    static void on_io(void* p, int st, std::size_t n) {
        static_cast<State*>(p)->value.n = n;
        static_cast<State*>(p)->complete(st);
    }
    static void on_status(void* p, int st) { static_cast<State*>(p)->complete(st); }
    braid_file* f_;
    Kind kind_;
    io::MutableBuffer dst_;
    io::ConstBuffer src_;
    uint64_t len_;
};
}  // namespace detail

// An open file.  One operation at a time (a second one while the first runs
// throws IoError(BRAID_EBUSY)).
class File {
public:
    File() = default;
    explicit File(braid_file* f) noexcept : f_(f) {}

    // Opens for reading.
    static detail::OpenOp open(std::string_view path) { return detail::OpenOp(path, BRAID_FS_READ, 0); }
    // Creates (or truncates) for writing.
    static detail::OpenOp create(std::string_view path) {
        return detail::OpenOp(path, BRAID_FS_WRITE | BRAID_FS_CREATE | BRAID_FS_TRUNCATE, 0666);
    }

    // Some bytes at the file position (0: end of file).  A zero-length
    // buffer throws (BRAID_EINVAL).
    detail::FileOp read(io::MutableBuffer b) { return detail::FileOp(native(), detail::FileOp::Read, b, {}, 0); }
    // All of b at the file position (returns b.size).  b is copied first.
    detail::FileOp write(io::ConstBuffer b) { return detail::FileOp(native(), detail::FileOp::Write, {}, b, 0); }
    detail::FileOp write_all(io::ConstBuffer b) { return write(b); }
    detail::FileOp sync_all() { return detail::FileOp(native(), detail::FileOp::Sync, {}, {}, 0); }
    // The data, and only the metadata needed to read it back (fdatasync).
    detail::FileOp sync_data() { return detail::FileOp(native(), detail::FileOp::SyncData, {}, {}, 0); }
    // A second File on the same open file (it shares the position).
    File try_clone() const {
        braid_file* c = nullptr;
        braid::detail::check_io(braid_file_try_clone(&c, native()), "File::try_clone");
        return File(c);
    }
    detail::FileOp set_len(uint64_t len) { return detail::FileOp(native(), detail::FileOp::SetLen, {}, {}, len); }
    detail::MetadataOp metadata() { return detail::MetadataOp(native()); }
    // Moves the file position now; returns it.  whence: SEEK_SET, SEEK_CUR, SEEK_END.
    int64_t seek(int64_t offset, int whence = BRAID_SEEK_SET) {
        int64_t pos = 0;
        braid::detail::check_io(braid_file_seek(native(), offset, whence, &pos), "File::seek");
        return pos;
    }
    // Nothing is buffered in user space: ready at once (AsyncWrite shape).
    std::suspend_never flush() { return {}; }
    std::suspend_never shutdown() { return {}; }

    int fd() const { return braid_file_fd(native()); }
    braid_file* native_handle() const noexcept { return f_.get(); }

private:
    braid_file* native() const {
        if (!f_) throw IoError(BRAID_ECLOSED, 0, "File: empty or moved-from");
        return f_.get();
    }
    detail::FilePtr f_;
};

inline File detail::OpenOp::result(State& s) { return File(s.value.release()); }

// Rust's OpenOptions.
class OpenOptions {
public:
    OpenOptions& read(bool on) { return set(BRAID_FS_READ, on); }
    OpenOptions& write(bool on) { return set(BRAID_FS_WRITE, on); }
    OpenOptions& append(bool on) { return set(BRAID_FS_APPEND, on); }
    OpenOptions& create(bool on) { return set(BRAID_FS_CREATE, on); }
    OpenOptions& create_new(bool on) { return set(BRAID_FS_CREATE_NEW, on); }
    OpenOptions& truncate(bool on) { return set(BRAID_FS_TRUNCATE, on); }
    // Permission bits for a file it creates (before the umask); 0666 by default.
    OpenOptions& mode(unsigned m) {
        mode_ = m;
        return *this;
    }
    // Throws IoError(BRAID_EINVAL) when awaited for a combination that makes
    // no sense (no access mode, create without write, ...).
    detail::OpenOp open(std::string_view path) const { return detail::OpenOp(path, flags_, mode_); }

private:
    OpenOptions& set(int bit, bool on) {
        flags_ = on ? (flags_ | bit) : (flags_ & ~bit);
        return *this;
    }
    int flags_ = 0;
    unsigned mode_ = 0666;
};

// The whole file, as bytes (std::string).
inline detail::ReadFileOp read(std::string_view path) { return detail::ReadFileOp(path, false); }
inline detail::ReadFileOp read_to_string(std::string_view path) { return detail::ReadFileOp(path, true); }
// Creates or truncates, then writes all of data (copied at the start).
inline detail::WriteFileOp write(std::string_view path, io::ConstBuffer data) { return detail::WriteFileOp(path, data); }
inline detail::PathOp create_dir(std::string_view p) { return detail::PathOp(&braid_fs_create_dir, p, "create_dir"); }
inline detail::PathOp create_dir_all(std::string_view p) {
    return detail::PathOp(&braid_fs_create_dir_all, p, "create_dir_all");
}
inline detail::PathOp remove_file(std::string_view p) { return detail::PathOp(&braid_fs_remove_file, p, "remove_file"); }
inline detail::PathOp remove_dir(std::string_view p) { return detail::PathOp(&braid_fs_remove_dir, p, "remove_dir"); }
inline detail::PathOp remove_dir_all(std::string_view p) {
    return detail::PathOp(&braid_fs_remove_dir_all, p, "remove_dir_all");
}
inline detail::PathOp rename(std::string_view from, std::string_view to) {
    return detail::PathOp(&braid_fs_rename, from, to, "rename");
}
// A new name `link` for the existing file `existing`.
inline detail::PathOp hard_link(std::string_view existing, std::string_view link) {
    return detail::PathOp(&braid_fs_hard_link, existing, link, "hard_link");
}
// A symbolic link `link` that points to `target`.
inline detail::PathOp symlink(std::string_view target, std::string_view link) {
    return detail::PathOp(&braid_fs_symlink, target, link, "symlink");
}
// What the symbolic link points to.
inline detail::ReadFileOp read_link(std::string_view p) { return detail::ReadFileOp(&braid_fs_read_link, p, "read_link"); }
// The absolute path, every symlink, "." and ".." resolved.
inline detail::ReadFileOp canonicalize(std::string_view p) {
    return detail::ReadFileOp(&braid_fs_canonicalize, p, "canonicalize");
}
// Sets the permission bits (0 .. 07777).
inline detail::PathModeOp set_permissions(std::string_view p, unsigned mode) { return detail::PathModeOp(p, mode, -1); }
// Whether the path exists (following symlinks); throws IoError when that
// cannot be told (permission denied on the way, ...).
inline detail::ExistsOp try_exists(std::string_view p) { return detail::ExistsOp(p); }

// Tokio's DirBuilder: co_await DirBuilder().recursive(true).mode(0700).create(path).
class DirBuilder {
public:
    DirBuilder& recursive(bool on) {
        recursive_ = on;
        return *this;
    }
    // Permission bits for the directories it creates (before the umask).
    DirBuilder& mode(unsigned m) {
        mode_ = m;
        return *this;
    }
    detail::PathModeOp create(std::string_view path) const { return detail::PathModeOp(path, mode_, recursive_ ? 1 : 0); }

private:
    bool recursive_ = false;
    unsigned mode_ = 0777;
};
// Copies contents and permissions; gives the bytes copied.
inline detail::CopyOp copy(std::string_view from, std::string_view to) { return detail::CopyOp(from, to); }
inline detail::MetadataOp metadata(std::string_view p) { return detail::MetadataOp(p, true); }
inline detail::MetadataOp symlink_metadata(std::string_view p) { return detail::MetadataOp(p, false); }

// The entries of a directory as a stream (the listing is read on the
// blocking pool when the first entry is asked for).  Errors (BRAID_ENOENT,
// BRAID_ENOTDIR, ...) are thrown from next().
inline braid::Stream<DirEntry> read_dir(std::string_view path) {
    return [](std::string p) -> braid::Stream<DirEntry> {
        std::vector<DirEntry> entries = co_await detail::ReadDirOp(p);
        for (auto& e : entries) co_yield std::move(e);
    }(detail::c_path(path));
}

}  // namespace braid::fs
