// The reactor: a libuv loop on a thread of its own.  libuv is not
// thread-safe except uv_async_send, so other threads hand it work through a
// submission queue and wake it with one uv_async_t; it keeps one uv_timer_t
// armed for the earliest timer deadline.
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

namespace braid::detail {

class Core;

// Something that owns libuv handles on the loop.  Registered on the loop
// thread; at stop the reactor asks each to close its handles.
class ReactorResource {
public:
    virtual void close_on_loop() = 0;

protected:
    ~ReactorResource() = default;
};

class Reactor {
public:
    explicit Reactor(Core& core);
    ~Reactor();

    // Starts the loop thread.  False when it could not be started.
    bool start();
    // Runs what was submitted, closes every handle, joins the thread.
    void stop();

    // Runs fn on the loop thread.  False (fn not run, not kept) once stopped.
    bool submit(std::function<void()> fn);
    // Runs fn on the loop thread and waits for it (inline when called there).
    // False when the reactor has stopped (fn did not run).
    bool run_on_loop(const std::function<void()>& fn);
    // The earliest timer deadline changed: re-arm the loop's timer.
    void rearm_timer();

    // Loop thread only.
    void add_resource(ReactorResource* r) { resources_.insert(r); }
    void remove_resource(ReactorResource* r) { resources_.erase(r); }

    // One watch per fd per loop (libuv allows one uv_poll_t per fd): claim
    // it before watching, release it once the loop no longer watches it.
    bool claim_fd(int fd) {
        std::lock_guard<std::mutex> g(mu_);
        return fds_.insert(fd).second;
    }
    void release_fd(int fd) {
        std::lock_guard<std::mutex> g(mu_);
        fds_.erase(fd);
    }

    uv_loop_t* loop() { return &loop_; }
    bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

private:
    void thread_main();
    void drain();
    void arm_timer();
    static void on_async(uv_async_t* a);
    static void on_timer(uv_timer_t* t);

    Core& core_;
    uv_loop_t loop_;
    uv_async_t async_;
    uv_timer_t timer_;
    std::thread thread_;
    std::mutex mu_;
    std::vector<std::function<void()>> pending_;
    std::atomic<bool> rearm_{false};
    std::unordered_set<ReactorResource*> resources_;
    std::unordered_set<int> fds_;  // guarded by mu_
    bool stopping_ = false;
    bool started_ = false;
};

}  // namespace braid::detail
