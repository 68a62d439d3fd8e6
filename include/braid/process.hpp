// braid::process: child processes (Tokio's tokio::process) on the C ABI
// (braid/process.h).
//
//   auto out = co_await braid::process::Command("ls").arg("-l").current_dir("/tmp").output();
//   if (out.status.success()) std::fputs(out.out.c_str(), stdout);
//
//   auto child = braid::process::Command("cat").set_stdin(braid::process::Stdio::piped())
//                    .set_stdout(braid::process::Stdio::piped()).kill_on_drop(true).spawn();
//   auto in = *child.take_stdin();   auto from = *child.take_stdout();
//   co_await in.write_all("hi");  co_await in.shutdown();        // cat sees end of file
//   std::string echoed = co_await braid::io::read_to_string(from);
//   braid::process::ExitStatus st = co_await child.wait();
//
// Names differ from Tokio's where C++ forbids them: stdin/stdout/stderr are
// macros of <cstdio>, so the Command setters are set_stdin/set_stdout/
// set_stderr and Output's fields are `out` and `err`.
//
// A program that does not exist throws IoError(BRAID_ENOENT) from spawn()
// (and from output()/status() when awaited); an embedded NUL in the program,
// an argument or the environment throws IoError(BRAID_EINVAL).  Dropping a
// Child never leaves a zombie: it is reaped in the background, and killed
// first if kill_on_drop(true) was set.  wait() is cancel-safe; output() is
// cancelled by killing the child.
#pragma once

#include <braid/detail/callback_op.hpp>
#include <braid/detail/io_awaiter.hpp>
#include <braid/io/buffer.hpp>
#include <braid/io/error.hpp>
#include <braid/io/ext.hpp>
#include <braid/io/byte_stream.hpp>
#include <braid/join.hpp>
#include <braid/process.h>
#include <braid/task.hpp>

#include <coroutine>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace braid::process {

struct Stdio {
    int mode = BRAID_STDIO_INHERIT;
    int fd = -1;  // from_fd: the open file the child gets
    static Stdio inherit() { return {BRAID_STDIO_INHERIT}; }
    static Stdio null() { return {BRAID_STDIO_NULL}; }
    static Stdio piped() { return {BRAID_STDIO_PIPED}; }
    // An open file, socket or pipe end of yours (Tokio's Stdio::from): the
    // command keeps its own duplicate, so you may close yours after
    // set_stdin/set_stdout/set_stderr.
    static Stdio from_fd(int fd) { return {BRAID_STDIO_INHERIT, fd}; }
};

class ExitStatus {
public:
    ExitStatus() = default;
    ExitStatus(int code, int signal) : code_(code), signal_(signal) {}
    // The exit code, or nothing when a signal ended the process.
    std::optional<int> code() const { return signal_ ? std::nullopt : std::optional<int>(code_); }
    // The signal that ended it, if one did.
    std::optional<int> signal() const { return signal_ ? std::optional<int>(signal_) : std::nullopt; }
    bool success() const { return signal_ == 0 && code_ == 0; }

private:
    int code_ = -1;
    int signal_ = 0;
};

struct Output {
    ExitStatus status;
    std::string out;  // what it wrote to stdout
    std::string err;  // and to stderr
};

namespace detail {
inline std::string c_str_arg(std::string_view s, const char* what) {
    if (s.find('\0') != std::string_view::npos) throw IoError(BRAID_EINVAL, 0, std::string(what) + ": embedded NUL");
    return std::string(s);
}
struct PipeFree {
    void operator()(braid_pipe* p) const { braid_pipe_free(p); }
};
}  // namespace detail

// The child's stdout or stderr: an AsyncRead.
class ChildReader : public io::ByteReader<ChildReader> {
public:
    explicit ChildReader(braid_pipe* p) : p_(p) {}
    // read, read_exact: io::ByteReader (braid/io/byte_stream.hpp).
    int fd() const { return braid_pipe_fd(native()); }
    braid_pipe* native_handle() const noexcept { return p_.get(); }

private:
    friend class io::ByteReader<ChildReader>;
    static constexpr io::StreamNames names{"child pipe read", "child pipe read_exact", "", "", ""};
    braid_pipe* native() const {
        if (!p_) throw IoError(BRAID_ECLOSED, 0, "child pipe: moved-from");
        return p_.get();
    }
    braid_byte_stream* byte_stream() const { return braid_pipe_as_byte_stream(native()); }
    std::unique_ptr<braid_pipe, detail::PipeFree> p_;
};
using ChildStdout = ChildReader;
using ChildStderr = ChildReader;

// The child's stdin: an AsyncWrite.  shutdown() closes it (the child reads
// end of file); writing after the child closed its end throws
// IoError(BRAID_EPIPE) (never SIGPIPE).
class ChildStdin : public io::ByteWriter<ChildStdin> {
public:
    explicit ChildStdin(braid_pipe* p) : p_(p) {}
    // write, write_all, flush, shutdown (closes it): io::ByteWriter
    // (braid/io/byte_stream.hpp).
    void close() {
        if (p_) braid_pipe_close(p_.get());
    }
    int fd() const { return braid_pipe_fd(native()); }
    braid_pipe* native_handle() const noexcept { return p_.get(); }

private:
    friend class io::ByteWriter<ChildStdin>;
    static constexpr io::StreamNames names{"", "", "child stdin write", "child stdin write_all", "child stdin shutdown"};
    braid_pipe* native() const {
        if (!p_) throw IoError(BRAID_ECLOSED, 0, "child stdin: moved-from");
        return p_.get();
    }
    braid_byte_stream* byte_stream() const { return braid_pipe_as_byte_stream(native()); }
    std::unique_ptr<braid_pipe, detail::PipeFree> p_;
};

class Child {
public:
    // Completes with the exit status.  Cancel-safe.
    class [[nodiscard]] WaitAwaiter : public braid::detail::LeafAwaiter<WaitAwaiter> {
    public:
        explicit WaitAwaiter(braid_child* c) : c_(c) {}
        WaitAwaiter(WaitAwaiter&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
        ~WaitAwaiter() { unregister(); }
        // Drops the waker; the exit status is kept for the next wait.
        void unregister() noexcept {
            if (registered_) braid_child_poll_wait(c_, nullptr, registered_, nullptr, nullptr);
            registered_ = nullptr;
        }
        bool ready_now() const { return false; }
        int poll(braid_wake_fn w, void* d) {
            int rc = braid_child_poll_wait(c_, w, d, &code_, &signal_);
            if (registered_ && (rc != BRAID_PENDING || registered_ != d)) braid_child_poll_wait(c_, nullptr, registered_, nullptr, nullptr);
            registered_ = rc == BRAID_PENDING ? d : nullptr;
            if (rc < 0) os_ = braid::detail::os_error_of(rc);
            return rc;
        }
        ExitStatus finish(int st) {
            if (st < 0) braid::detail::throw_io(st, os_, "Child::wait");
            return ExitStatus(code_, signal_);
        }

    private:
        braid_child* c_;
        int code_ = -1, signal_ = 0, os_ = 0;
        void* registered_ = nullptr;  // the wake_data of our registration
    };

    Child() = default;
    explicit Child(braid_child* c) noexcept : c_(c) {}
    Child(Child&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    Child& operator=(Child&& o) noexcept {
        if (this != &o) {
            braid_child_free(c_);
            c_ = std::exchange(o.c_, nullptr);
        }
        return *this;
    }
    ~Child() { braid_child_free(c_); }

    // The pid while the child has not been reaped; std::nullopt once it has
    // (the pid may belong to another process by then).
    std::optional<int> id() const {
        int pid = braid::detail::check_io(braid_child_id(native()), "Child::id");
        return pid > 0 ? std::optional<int>(pid) : std::nullopt;
    }
    std::optional<ChildStdin> take_stdin() {
        braid_pipe* p = nullptr;
        if (braid_child_take_stdin(native(), &p) != BRAID_OK) return std::nullopt;
        return ChildStdin(p);
    }
    std::optional<ChildStdout> take_stdout() {
        braid_pipe* p = nullptr;
        if (braid_child_take_stdout(native(), &p) != BRAID_OK) return std::nullopt;
        return ChildStdout(p);
    }
    std::optional<ChildStderr> take_stderr() {
        braid_pipe* p = nullptr;
        if (braid_child_take_stderr(native(), &p) != BRAID_OK) return std::nullopt;
        return ChildStderr(p);
    }
    WaitAwaiter wait() { return WaitAwaiter(native()); }
    // The status if it has exited, without waiting.
    std::optional<ExitStatus> try_wait() {
        int code = -1, sig = 0;
        int rc = braid_child_try_wait(native(), &code, &sig);
        if (rc == BRAID_PENDING) return std::nullopt;
        braid::detail::check_io(rc, "Child::try_wait");
        return ExitStatus(code, sig);
    }
    // Sends SIGKILL (nothing if it has exited).
    void start_kill() { braid::detail::check_io(braid_child_kill(native()), "Child::kill"); }
    // Sends any signal (SIGTERM, SIGINT, SIGHUP ...; nothing once reaped).
    void signal(int signum) { braid::detail::check_io(braid_child_signal(native(), signum), "Child::signal"); }
    // Waits for the exit while collecting what the child writes to its
    // piped stdout and stderr (Tokio's wait_with_output; a stream that was
    // not piped, or was taken, gives nothing).  Consumes the Child.
    Task<Output> wait_with_output() && { return collect(std::move(*this)); }
    // Kills and waits.
    WaitAwaiter kill() {
        start_kill();
        return wait();
    }
    braid_child* native_handle() const noexcept { return c_; }

private:
    braid_child* native() const {
        if (!c_) throw IoError(BRAID_ECLOSED, 0, "Child: empty or moved-from");
        return c_;
    }
    template <class Pipe>
    static Task<void> drain(std::optional<Pipe> pipe, std::string* into) {
        if (pipe) co_await io::read_to_end(*pipe, *into);
    }
    static Task<Output> collect(Child c) {
        Output o;
        // Both pipes at once: a child that fills one pipe while we wait for
        // the end of the other would never finish.
        auto out = drain(c.take_stdout(), &o.out);
        auto err = drain(c.take_stderr(), &o.err);
        co_await braid::join(std::move(out), std::move(err));
        o.status = co_await c.wait();
        co_return o;
    }
    braid_child* c_ = nullptr;
};

namespace detail {
class [[nodiscard]] OutputOp : public braid::detail::CallbackAwaiter<OutputOp, Output> {
public:
    explicit OutputOp(braid_command* cmd) : cmd_(cmd) {}
    int start(State* s, braid_task** out) { return braid_command_output(out, cmd_, nullptr, &on_done, s); }
    Output result(State& s) { return std::move(s.value); }
    const char* what() const { return "Command::output"; }

private:
    static void on_done(void* p, int st, int code, int sig, const void* o, std::size_t on, const void* e, std::size_t en) {
        auto* s = static_cast<State*>(p);
        if (st == BRAID_OK) {
            try {
                s->value.status = ExitStatus(code, sig);
                s->value.out.assign(static_cast<const char*>(o), on);
                s->value.err.assign(static_cast<const char*>(e), en);
            } catch (...) {
                st = BRAID_ENOMEM;
            }
        }
        s->complete(st);
    }
    braid_command* cmd_;  // the command must outlive the await (the C call copies it at start)
};
}  // namespace detail

class Command {
public:
    explicit Command(std::string_view program) {
        std::string p = detail::c_str_arg(program, "Command program");
        braid::detail::check_io(braid_command_new(&cmd_, p.c_str()), "Command");
    }
    Command(Command&& o) noexcept : cmd_(std::exchange(o.cmd_, nullptr)) {}
    Command& operator=(Command&& o) noexcept {
        if (this != &o) {
            braid_command_free(cmd_);
            cmd_ = std::exchange(o.cmd_, nullptr);
        }
        return *this;
    }
    ~Command() { braid_command_free(cmd_); }

    Command& arg(std::string_view a) {
        std::string s = detail::c_str_arg(a, "Command argument");
        braid::detail::check_io(braid_command_arg(native(), s.c_str()), "Command::arg");
        return *this;
    }
    template <class Range>
    Command& args(const Range& r) {
        for (const auto& a : r) arg(a);
        return *this;
    }
    Command& args(std::initializer_list<std::string_view> r) {
        for (auto a : r) arg(a);
        return *this;
    }
    Command& env(std::string_view key, std::string_view value) {
        std::string k = detail::c_str_arg(key, "Command env"), v = detail::c_str_arg(value, "Command env");
        braid::detail::check_io(braid_command_env(native(), k.c_str(), v.c_str()), "Command::env");
        return *this;
    }
    Command& env_remove(std::string_view key) {
        std::string k = detail::c_str_arg(key, "Command env_remove");
        braid::detail::check_io(braid_command_env_remove(native(), k.c_str()), "Command::env_remove");
        return *this;
    }
    Command& env_clear() {
        braid::detail::check_io(braid_command_env_clear(native()), "Command::env_clear");
        return *this;
    }
    Command& current_dir(std::string_view dir) {
        std::string d = detail::c_str_arg(dir, "Command current_dir");
        braid::detail::check_io(braid_command_current_dir(native(), d.c_str()), "Command::current_dir");
        return *this;
    }
    Command& set_stdin(Stdio s) {
        braid::detail::check_io(s.fd >= 0 ? braid_command_stdin_fd(native(), s.fd) : braid_command_stdin(native(), s.mode),
                                "Command::set_stdin");
        return *this;
    }
    Command& set_stdout(Stdio s) {
        braid::detail::check_io(s.fd >= 0 ? braid_command_stdout_fd(native(), s.fd) : braid_command_stdout(native(), s.mode),
                                "Command::set_stdout");
        return *this;
    }
    Command& set_stderr(Stdio s) {
        braid::detail::check_io(s.fd >= 0 ? braid_command_stderr_fd(native(), s.fd) : braid_command_stderr(native(), s.mode),
                                "Command::set_stderr");
        return *this;
    }
    // argv[0] as the child sees it (Tokio's arg0).
    Command& arg0(std::string_view a) {
        std::string s = detail::c_str_arg(a, "Command arg0");
        braid::detail::check_io(braid_command_arg0(native(), s.c_str()), "Command::arg0");
        return *this;
    }
    // The child joins process group pgid, or with 0 a new group of its own.
    Command& process_group(int pgid) {
        braid::detail::check_io(braid_command_process_group(native(), pgid), "Command::process_group");
        return *this;
    }
    // The child starts a new session (setsid).
    Command& setsid(bool on = true) {
        braid::detail::check_io(braid_command_setsid(native(), on), "Command::setsid");
        return *this;
    }
    // The child runs as this user / group (setuid / setgid before the
    // exec; it is then started with fork and exec, not posix_spawn).  A
    // change this process may not make fails spawn with BRAID_EACCES (EPERM).
    Command& uid(uint32_t id) {
        braid::detail::check_io(braid_command_uid(native(), id), "Command::uid");
        return *this;
    }
    Command& gid(uint32_t id) {
        braid::detail::check_io(braid_command_gid(native(), id), "Command::gid");
        return *this;
    }
    Command& kill_on_drop(bool on) {
        braid::detail::check_io(braid_command_kill_on_drop(native(), on), "Command::kill_on_drop");
        return *this;
    }

    // Starts the child now, on the calling thread's runtime.
    Child spawn() {
        braid_child* c = nullptr;
        braid::detail::check_io(braid_command_spawn(&c, native(), nullptr), "Command::spawn");
        return Child(c);
    }
    // Runs it with stdout and stderr collected (stdin from /dev/null unless
    // set otherwise).  The Command must outlive the await.
    detail::OutputOp output() { return detail::OutputOp(native()); }
    // Runs it (inheriting stdio as configured) and gives its exit status.
    Task<ExitStatus> status() {
        Child c = spawn();
        co_return co_await c.wait();
    }

    braid_command* native_handle() const noexcept { return cmd_; }

private:
    braid_command* native() const {
        if (!cmd_) throw IoError(BRAID_EINVAL, 0, "Command: moved-from");
        return cmd_;
    }
    braid_command* cmd_ = nullptr;
};

}  // namespace braid::process
