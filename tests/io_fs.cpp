// Files on the blocking pool: whole-file read/write, directories (create,
// read_dir as a stream, remove, remove_dir_all), rename, copy, metadata, File
// with open options, seek, append, set_len; the errors (missing file,
// permission denied, a directory given for a file, embedded NUL) and fd
// leaks; the C side; copying a file onto itself and removing "/" refused.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace test_io_fs {

using namespace std::chrono_literals;
namespace fs = braid::fs;
using braid_test::code_of;
using braid_test::TempDir;

namespace {

// Makes `path` refuse writes even to root (the immutable flag), or to
// others (mode 0).  False when neither is possible here.
bool make_unwritable(const std::string& path) {
    if (geteuid() != 0) return ::chmod(path.c_str(), 0) == 0;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    int flags = 0;
    bool ok = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    flags |= FS_IMMUTABLE_FL;
    ok = ok && ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

TEST_CASE("io_fs.fs: whole files, directories, read_dir, rename, copy, metadata, removal") {
    TempDir dir;
    auto rt = braid_test::runtime(2);
    struct Out {
        std::string text;
        std::vector<std::string> names;
        bool types_ok = false;
        uint64_t copied = 0;
        std::string copy_text;
        unsigned copy_perm = 0;
        uint64_t len = 0;
        bool is_file = false, is_dir = false;
        int not_empty = 0, gone = 0;
    };
    Out o = rt.block_on([](std::string root) -> braid::Task<Out> {
        Out o;
        co_await fs::create_dir_all(root + "/a/b/c");
        co_await fs::create_dir_all(root + "/a/b/c");  // existing: fine
        co_await fs::write(root + "/a/hello.txt", "hello, files");
        o.text = co_await fs::read_to_string(root + "/a/hello.txt");
        co_await fs::write(root + "/a/b/x.bin", std::string(100000, 'x'));
        ::chmod((root + "/a/b/x.bin").c_str(), 0640);
        o.copied = co_await fs::copy(root + "/a/b/x.bin", root + "/a/b/y.bin");
        o.copy_text = co_await fs::read(root + "/a/b/y.bin");
        o.copy_perm = (co_await fs::metadata(root + "/a/b/y.bin")).permissions;
        co_await fs::rename(root + "/a/b/y.bin", root + "/a/z.bin");
        auto entries = fs::read_dir(root + "/a");
        bool types_ok = true;
        while (auto e = co_await entries.next()) {
            o.names.push_back(e->file_name());
            if (e->file_name() == "b") types_ok &= e->file_type() == fs::FileType::Dir || e->file_type() == fs::FileType::Other;
            if (e->file_name() == "z.bin") types_ok &= e->path() == root + "/a/z.bin";
        }
        o.types_ok = types_ok;
        auto m = co_await fs::metadata(root + "/a/hello.txt");
        o.len = m.len;
        o.is_file = m.is_file();
        o.is_dir = (co_await fs::metadata(root + "/a")).is_dir();
        o.not_empty = co_await code_of(fs::remove_dir(root + "/a"));
        co_await fs::remove_file(root + "/a/hello.txt");
        co_await fs::remove_dir_all(root + "/a");
        o.gone = co_await code_of(fs::metadata(root + "/a"));
        co_return o;
    }(dir.path));
    REQUIRE(o.text == "hello, files");
    std::sort(o.names.begin(), o.names.end());
    REQUIRE(o.names == std::vector<std::string>{"b", "hello.txt", "z.bin"});
    REQUIRE(o.types_ok);
    REQUIRE(o.copied == 100000);
    REQUIRE(o.copy_text == std::string(100000, 'x'));
    REQUIRE(o.copy_perm == 0640);
    REQUIRE(o.len == 12);
    REQUIRE(o.is_file);
    REQUIRE(o.is_dir);
    REQUIRE(o.not_empty == BRAID_ENOTEMPTY);
    REQUIRE(o.gone == BRAID_ENOENT);
}

TEST_CASE("io_fs.fs: File with open options, seek, append, set_len, sync_all, metadata") {
    TempDir dir;
    auto rt = braid_test::runtime(2);
    auto [first, appended, exists, truncated, reread] = rt.block_on([](std::string p) -> braid::Task<std::tuple<std::string, std::string, int, uint64_t, std::string>> {
        auto f = co_await fs::OpenOptions().read(true).write(true).create_new(true).open(p);
        co_await f.write_all("0123456789");
        f.seek(0);
        std::string buf(4, '\0');
        std::size_t n = co_await f.read(buf);
        buf.resize(n);
        co_await f.sync_all();
        int exists = co_await code_of(fs::OpenOptions().write(true).create_new(true).open(p));
        {
            auto a = co_await fs::OpenOptions().append(true).open(p);
            co_await a.write("ABC");
        }
        std::string all = co_await fs::read_to_string(p);
        co_await f.set_len(5);
        uint64_t len = (co_await f.metadata()).len;
        auto r = co_await fs::File::open(p);
        std::string back;
        co_await braid::io::read_to_end(r, back);
        co_return std::make_tuple(buf, all, exists, len, back);
    }(dir / "f.txt"));
    REQUIRE(first == "0123");
    REQUIRE(appended == "0123456789ABC");
    REQUIRE(exists == BRAID_EEXIST);
    REQUIRE(truncated == 5);
    REQUIRE(reread == "01234");
}

TEST_CASE("io_fs.fs: missing file, permission denied, a directory given for a file, bad paths, no fd leaks") {
    TempDir dir;
    std::string locked = dir / "locked.txt";
    {
        int fd = ::open(locked.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        ::close(fd);
    }
    bool can_lock = make_unwritable(locked);
    auto rt = braid_test::runtime(2);
    rt.block_on([](std::string d) -> braid::Task<> { co_await fs::metadata(d); }(dir.path));  // warm the pool
    int before = braid_test::open_fds();
    auto codes = rt.block_on([](std::string d, std::string locked) -> braid::Task<std::vector<int>> {
        std::vector<int> out;
        out.push_back(co_await code_of(fs::read(d + "/missing.txt")));
        out.push_back(co_await code_of(fs::File::open(d + "/missing.txt")));
        out.push_back(co_await code_of(fs::remove_file(d + "/missing.txt")));
        out.push_back(co_await code_of(fs::write(d + "/no/such/dir/f", "x")));
        out.push_back(co_await code_of(fs::write(locked, "x")));                  // permission denied
        out.push_back(co_await code_of(fs::read(d)));                             // a directory
        out.push_back(co_await code_of(fs::File::open(d)));
        out.push_back(co_await code_of(fs::write(d, "x")));
        out.push_back(co_await code_of(fs::remove_file(d)));
        out.push_back(co_await code_of(fs::remove_dir_all(locked)));             // not a directory
        out.push_back(braid_test::error_code_of([&] { (void)fs::read(std::string_view("a\0b", 3)); }));
        out.push_back(co_await code_of(fs::read("")));
        out.push_back(co_await code_of(fs::OpenOptions().create(true).open(d + "/x")));  // create without write
        auto f = co_await fs::OpenOptions().write(true).create(true).open(d + "/w.txt");
        out.push_back(co_await code_of(f.read(braid::io::MutableBuffer(nullptr, 0))));
        fs::File empty;
        out.push_back(braid_test::error_code_of([&] { (void)empty.read(braid::io::MutableBuffer(nullptr, 1)); }));
        co_return out;
    }(dir.path, locked));
    REQUIRE(codes[0] == BRAID_ENOENT);
    REQUIRE(codes[1] == BRAID_ENOENT);
    REQUIRE(codes[2] == BRAID_ENOENT);
    REQUIRE(codes[3] == BRAID_ENOENT);
    if (can_lock) REQUIRE(codes[4] == BRAID_EACCES);
    else WARN("cannot make a file unwritable here: permission denied not exercised");
    REQUIRE(codes[5] == BRAID_EISDIR);
    REQUIRE(codes[6] == BRAID_EISDIR);
    REQUIRE(codes[7] == BRAID_EISDIR);
    REQUIRE(codes[8] == BRAID_EISDIR);
    REQUIRE(codes[9] == BRAID_ENOTDIR);
    REQUIRE(codes[10] == BRAID_EINVAL);
    REQUIRE(codes[11] == BRAID_EINVAL);
    REQUIRE(codes[12] == BRAID_EINVAL);
    REQUIRE(codes[13] == BRAID_EINVAL);
    REQUIRE(codes[14] == BRAID_ECLOSED);
    REQUIRE(braid_test::open_fds() == before);
}

TEST_CASE("io_fs.fs: operations dropped by a timeout leak nothing") {
    TempDir dir;
    auto rt = braid_test::runtime(2);
    int before = -1;
    int done = rt.block_on([](std::string p, int* before) -> braid::Task<int> {
        co_await fs::write(p, std::string(1 << 20, 'q'));
        *before = braid_test::open_fds();
        int finished = 0;
        for (int i = 0; i < 50; ++i) {
            auto r = co_await braid::timeout(0ms, fs::read(p));
            if (r) ++finished;
            auto f = co_await braid::timeout(0ms, fs::File::open(p));
            if (f) ++finished;
        }
        co_return finished;
    }(dir / "big.bin", &before));
    (void)done;
    rt.shutdown_timeout(5s);
    REQUIRE(braid_test::open_fds() <= before);
}

namespace {
struct Result {
    std::atomic<int> calls{0};
    std::atomic<int> status{1000};
    std::string bytes;
    std::atomic<braid_file*> file{nullptr};
    static void on_status(void* p, int st) {
        static_cast<Result*>(p)->status = st;
        static_cast<Result*>(p)->calls++;
    }
    static void on_bytes(void* p, int st, const void* d, size_t n) {
        auto* r = static_cast<Result*>(p);
        if (d) r->bytes.assign(static_cast<const char*>(d), n);
        r->status = st;
        r->calls++;
    }
    static void on_file(void* p, int st, braid_file* f) {
        auto* r = static_cast<Result*>(p);
        r->file = f;
        r->status = st;
        r->calls++;
    }
    static void on_io(void* p, int st, size_t) {
        static_cast<Result*>(p)->status = st;
        static_cast<Result*>(p)->calls++;
    }
};
int wait(braid_task* t) {
    int st = braid_task_join_blocking(t, BRAID_WAIT_FOREVER);
    braid_task_free(t);
    return st;
}
}  // namespace

TEST_CASE("io_fs.fs from C: write, read, open, EBUSY, bad input") {
    TempDir dir;
    std::string p = dir / "c.txt";
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_new(&rt) == BRAID_OK);
    Result w, r, o, missing, never;
    braid_task* t = nullptr;
    REQUIRE(braid_fs_write(&t, rt, p.c_str(), "from C", 6, &Result::on_status, &w) == BRAID_OK);
    wait(t);
    REQUIRE(w.status == BRAID_OK);
    REQUIRE(braid_fs_read(&t, rt, p.c_str(), &Result::on_bytes, &r) == BRAID_OK);
    wait(t);
    REQUIRE(r.bytes == "from C");
    REQUIRE(braid_fs_read(&t, rt, (dir / "nope").c_str(), &Result::on_bytes, &missing) == BRAID_OK);
    wait(t);
    REQUIRE(missing.status == BRAID_ENOENT);
    REQUIRE(braid_file_open(&t, rt, p.c_str(), BRAID_FS_READ, 0, &Result::on_file, &o) == BRAID_OK);
    wait(t);
    REQUIRE(o.status == BRAID_OK);
    braid_file* f = o.file;
    char buf[16];
    Result rd, busy;
    braid_task* tr = nullptr;
    REQUIRE(braid_file_read(&tr, f, buf, sizeof buf, &Result::on_io, &rd) == BRAID_OK);
    braid_task* t2 = nullptr;
    int second = braid_file_read(&t2, f, buf, sizeof buf, &Result::on_io, &busy);
    REQUIRE((second == BRAID_EBUSY || second == BRAID_OK));  // EBUSY unless the first already finished
    wait(tr);
    if (second == BRAID_OK) wait(t2);
    REQUIRE(rd.status == BRAID_OK);
    REQUIRE(braid_file_read(nullptr, f, buf, 0, &Result::on_io, &never) == BRAID_EINVAL);
    REQUIRE(braid_file_open(nullptr, rt, p.c_str(), 0, 0, &Result::on_file, &never) == BRAID_EINVAL);
    REQUIRE(braid_file_open(nullptr, rt, p.c_str(), BRAID_FS_READ | BRAID_FS_TRUNCATE, 0, &Result::on_file, &never) ==
            BRAID_EINVAL);
    REQUIRE(braid_fs_read(nullptr, rt, nullptr, &Result::on_bytes, &never) == BRAID_EINVAL);
    REQUIRE(braid_fs_read(nullptr, rt, "", &Result::on_bytes, &never) == BRAID_EINVAL);
    REQUIRE(braid_fs_rename(nullptr, rt, p.c_str(), nullptr, &Result::on_status, &never) == BRAID_EINVAL);
    REQUIRE(braid_file_seek(nullptr, 0, BRAID_SEEK_SET, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_file_seek(f, 0, 7, nullptr) == BRAID_EINVAL);
    int64_t pos = -1;
    REQUIRE(braid_file_seek(f, 2, BRAID_SEEK_SET, &pos) == BRAID_OK);
    REQUIRE(pos == 2);
    braid_file_free(f);
    REQUIRE(never.calls == 0);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
}

// ---- refusals that protect the caller's files ------------------------------------

namespace {
struct CopyDone {
    std::atomic<int> status{1000};
    std::atomic<size_t> n{0};
    static void cb(void* p, int st, size_t n) {
        static_cast<CopyDone*>(p)->status = st;
        static_cast<CopyDone*>(p)->n = n;
    }
};
int c_copy(braid_runtime* rt, const std::string& from, const std::string& to, size_t* n = nullptr) {
    CopyDone d;
    braid_task* t = nullptr;
    int rc = braid_fs_copy(&t, rt, from.c_str(), to.c_str(), &CopyDone::cb, &d);
    if (rc != BRAID_OK) return rc;
    wait(t);
    if (n) *n = d.n;
    return d.status;
}
std::string contents(const std::string& path) {
    std::string out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "<missing>";
    char buf[4096];
    for (ssize_t k; (k = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, size_t(k));
    ::close(fd);
    return out;
}
void put(const std::string& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == ssize_t(text.size()));
    ::close(fd);
}
}  // namespace

TEST_CASE("io_fs.fs: copy refuses a destination that is the source file itself, by any path, and leaves it whole") {
    TempDir dir;
    const std::string text = "precious contents";
    std::string a = dir / "a.txt";
    put(a, text);
    REQUIRE(::mkdir((dir / "sub").c_str(), 0755) == 0);
    REQUIRE(::symlink("a.txt", (dir / "link").c_str()) == 0);
    REQUIRE(::link(a.c_str(), (dir / "hard").c_str()) == 0);
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_new(&rt) == BRAID_OK);
    const std::vector<std::pair<std::string, std::string>> same = {
        {a, a},
        {a, dir / "./a.txt"},
        {a, dir / "sub/../a.txt"},
        {a, "/tmp/../" + dir.path.substr(1) + "/a.txt"},
        {a, dir / "link"},
        {dir / "link", a},
        {a, dir / "hard"},
        {dir / "hard", dir / "link"},
    };
    for (const auto& [from, to] : same) {
        INFO(from << " -> " << to);
        REQUIRE(c_copy(rt, from, to) == BRAID_EINVAL);
        REQUIRE(contents(a) == text);
    }
    // Read-only: refused as the same file, not as a permission problem.
    REQUIRE(::chmod(a.c_str(), 0444) == 0);
    REQUIRE(c_copy(rt, a, dir / "hard") == BRAID_EINVAL);
    REQUIRE(contents(a) == text);
    REQUIRE(::chmod(a.c_str(), 0644) == 0);
    // A different file is still replaced, truncated first.
    std::string longer = dir / "longer.txt";
    put(longer, std::string(100, 'L'));
    size_t n = 0;
    REQUIRE(c_copy(rt, a, longer, &n) == BRAID_OK);
    REQUIRE(n == text.size());
    REQUIRE(contents(longer) == text);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
    // The C++ layer reports it as braid::Error(BRAID_EINVAL).
    auto cpp = braid_test::runtime(1);
    int code = cpp.block_on([](std::string p) -> braid::Task<int> { co_return co_await code_of(fs::copy(p, p)); }(a));
    REQUIRE(code == BRAID_EINVAL);
    REQUIRE(contents(a) == text);
}

namespace {
// Runs body in a child process where unlink, unlinkat and rmdir fail with
// EXDEV (a seccomp filter, inherited by every thread the child starts), so
// that a remove_dir_all that failed to refuse the root directory could not
// remove anything.  Returns the child's exit status (body's result), or
// 100+ when the sandbox could not be set up or did not hold.
int in_removal_sandbox(const std::string& probe, int (*body)(const std::string&), const std::string& arg) {
    pid_t pid = ::fork();
    if (pid < 0) return 110;
    if (pid == 0) {
#if defined(__x86_64__)
        constexpr uint32_t arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
        constexpr uint32_t arch = AUDIT_ARCH_AARCH64;
#else
        _exit(111);  // no filter for this architecture: never run the body unguarded
#endif
        constexpr uint32_t deny = SECCOMP_RET_ERRNO | (EXDEV & SECCOMP_RET_DATA);
        sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unlinkat, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, deny),
#ifdef __NR_unlink
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unlink, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, deny),
#endif
#ifdef __NR_rmdir
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rmdir, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, deny),
#endif
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(112);
        if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(113);
        // The sandbox holds: removing an existing file fails with EXDEV.
        if (::unlink(probe.c_str()) == 0 || errno != EXDEV) _exit(114);
        if (::rmdir(probe.c_str()) == 0 || errno != EXDEV) _exit(115);
        _exit(body(arg));
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return 116;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 120;
}

// In the sandbox: every path that names "/" is refused with BRAID_EACCES.
int refuse_root(const std::string& canary) {
    braid_runtime* rt = nullptr;
    if (braid_runtime_new(&rt) != BRAID_OK) return 1;
    int failures = 0;
    for (const char* path : {"/", "//", "/tmp/..", "/./", "/../..", "/tmp/../"}) {
        struct Done {
            std::atomic<int> status{1000};
            std::atomic<int> os_error{0};
            static void cb(void* p, int st) {
                static_cast<Done*>(p)->os_error = braid_last_os_error();
                static_cast<Done*>(p)->status = st;
            }
        } d;
        braid_task* t = nullptr;
        int rc = braid_fs_remove_dir_all(&t, rt, path, &Done::cb, &d);
        if (rc == BRAID_OK) {
            braid_task_join_blocking(t, BRAID_WAIT_FOREVER);
            braid_task_free(t);
            rc = d.status;
        }
        if (rc != BRAID_EACCES || d.os_error != EPERM) {
            std::fprintf(stderr, "remove_dir_all(\"%s\"): %s (errno %d), expected BRAID_EACCES (EPERM)\n", path,
                         braid_err_name(rc), int(d.os_error));
            ++failures;
        }
        if (contents(canary) != "canary") {
            std::fprintf(stderr, "remove_dir_all(\"%s\") touched the canary\n", path);
            ++failures;
        }
    }
    braid_runtime_free(rt);
    return failures ? 1 : 0;
}
}  // namespace

TEST_CASE("io_fs.fs: remove_dir_all refuses the root directory, whatever path names it, before touching anything") {
    TempDir dir;
    std::string canary = dir / "canary";
    put(canary, "canary");
    std::string probe = dir / "probe";
    REQUIRE(::mkdir(probe.c_str(), 0755) == 0);
    put(probe + "/file", "x");
    // Run where nothing can be removed (see in_removal_sandbox): a regression
    // must fail this test, never empty the machine.
    REQUIRE(in_removal_sandbox(probe + "/file", &refuse_root, canary) == 0);
    REQUIRE(contents(canary) == "canary");
    REQUIRE(contents(probe + "/file") == "x");
}

TEST_CASE("io_fs.fs: links, canonicalize, set_permissions, try_exists, DirBuilder mode, sync_data, try_clone") {
    TempDir dir;
    auto rt = braid_test::runtime(1);
    rt.block_on([](std::string d) -> braid::Task<> {
        std::string file = d + "/f.txt";
        co_await fs::write(file, "abc");
        co_await fs::hard_link(file, d + "/hard");
        co_await fs::symlink("f.txt", d + "/soft");  // relative target
        EXPECT(co_await fs::read(d + "/hard") == "abc");
        EXPECT(co_await fs::read_link(d + "/soft") == "f.txt");
        EXPECT(co_await code_of(fs::read_link(file)) == BRAID_EINVAL);  // not a link
        std::string real = co_await fs::canonicalize(d + "/./soft");
        std::string real_dir = co_await fs::canonicalize(d);
        EXPECT(real == real_dir + "/f.txt");
        EXPECT(co_await code_of(fs::canonicalize(d + "/missing")) == BRAID_ENOENT);
        EXPECT(co_await code_of(fs::hard_link(file, d + "/hard")) == BRAID_EEXIST);

        co_await fs::set_permissions(file, 0640);
        EXPECT(((co_await fs::metadata(file)).permissions & 07777) == 0640);
        EXPECT(co_await code_of(fs::set_permissions(file, 010000)) == BRAID_EINVAL);

        EXPECT(co_await fs::try_exists(file));
        EXPECT(!(co_await fs::try_exists(d + "/missing")));
        EXPECT(!(co_await fs::try_exists(file + "/under-a-file")));  // ENOTDIR: does not exist
        co_await fs::symlink(d + "/missing", d + "/dangling");
        EXPECT(!(co_await fs::try_exists(d + "/dangling")));  // follows the link

        co_await fs::DirBuilder().recursive(true).mode(0700).create(d + "/a/b/c");
        EXPECT(((co_await fs::metadata(d + "/a/b")).permissions & 0777) == 0700);
        EXPECT(((co_await fs::metadata(d + "/a/b/c")).permissions & 0777) == 0700);
        EXPECT(co_await code_of(fs::DirBuilder().create(d + "/x/y")) == BRAID_ENOENT);  // not recursive

        auto f = co_await fs::OpenOptions().read(true).write(true).open(file);
        auto g = f.try_clone();
        EXPECT(g.fd() != f.fd());
        EXPECT(co_await f.write(braid::io::ConstBuffer("XY", 2)) == 2);
        co_await f.sync_data();
        EXPECT(g.seek(0, BRAID_SEEK_CUR) == 2);  // one file position, shared
        char buf[8] = {};
        EXPECT(co_await g.read(braid::io::MutableBuffer(buf, sizeof buf)) == 1);
        EXPECT(buf[0] == 'c');
    }(dir.path));

    // C: bad input changes nothing, and a path operation reports through cb.
    braid_runtime* crt = nullptr;
    REQUIRE(braid_runtime_new(&crt) == BRAID_OK);
    Result never, exists;
    REQUIRE(braid_fs_hard_link(nullptr, crt, nullptr, "x", &Result::on_status, &never) == BRAID_EINVAL);
    REQUIRE(braid_fs_symlink(nullptr, crt, "x", "", &Result::on_status, &never) == BRAID_EINVAL);
    REQUIRE(braid_fs_read_link(nullptr, crt, nullptr, &Result::on_bytes, &never) == BRAID_EINVAL);
    REQUIRE(braid_fs_canonicalize(nullptr, crt, "", &Result::on_bytes, &never) == BRAID_EINVAL);
    REQUIRE(braid_fs_set_permissions(nullptr, crt, "p", 010000, &Result::on_status, &never) == BRAID_EINVAL);
    REQUIRE(braid_fs_create_dir_with(nullptr, crt, "p", 1, 020000, &Result::on_status, &never) == BRAID_EINVAL);
    REQUIRE(braid_fs_try_exists(nullptr, crt, nullptr, &Result::on_status, &never) == BRAID_EINVAL);
    REQUIRE(braid_file_sync_data(nullptr, nullptr, &Result::on_status, &never) == BRAID_EINVAL);
    braid_file* clone = reinterpret_cast<braid_file*>(1);
    REQUIRE(braid_file_try_clone(&clone, nullptr) == BRAID_EINVAL);
    REQUIRE(clone == nullptr);
    REQUIRE(braid_file_try_clone(nullptr, nullptr) == BRAID_EINVAL);
    braid_task* t = nullptr;
    REQUIRE(braid_fs_try_exists(&t, crt, (dir / "f.txt").c_str(), &Result::on_status, &exists) == BRAID_OK);
    wait(t);
    REQUIRE(exists.status == 1);
    REQUIRE(never.calls == 0);
    REQUIRE(braid_runtime_free(crt) == BRAID_OK);
}

}  // namespace test_io_fs
