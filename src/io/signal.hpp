// Unix signals through libuv's signal handles: one uv_signal_t per signal
// number on the reactor, any number of listeners for it.  Every listener hears
// every delivery (counted, so none is lost between two waits).
#pragma once

#include <braid/task.h>
#include <uv.h>

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "io/reactor.hpp"
#include "sync/waker_slot.hpp"

namespace braid::detail {

class Core;

class SignalListener {
public:
    // Installs the handler (on the loop thread) before returning: a signal
    // sent after this returns is heard.  BRAID_EINVAL for a signal number
    // libuv cannot watch (0, SIGKILL, SIGSTOP, out of range).
    static int create(SignalListener** out, Core* core, int signum);
    void release();

    int signum() const { return signum_; }
    // 0: one delivery taken; BRAID_PENDING (waker registered; NULL: none);
    // BRAID_ECANCELED once the runtime shut down.
    int poll_recv(braid_wake_fn wake, void* data);
    void unregister();

    // Loop thread.
    void deliver();
    void close();

private:
    SignalListener(Core* core, int signum) : core_(core), signum_(signum) {}
    Core* core_;
    const int signum_;
    std::mutex mu_;
    uint64_t pending_ = 0;
    bool closed_ = false;
    WakerSlot waker_;
};

// Loop-thread state: the uv_signal_t of each watched signal and its listeners.
class SignalRegistry final : public ReactorResource {
public:
    explicit SignalRegistry(Reactor& r) : reactor_(r) {}
    int add(SignalListener* l);    // loop thread
    void remove(SignalListener* l);  // loop thread
    void close_on_loop() override;

private:
    struct Watch {
        uv_signal_t handle;
        std::vector<SignalListener*> listeners;
    };
    static void on_signal(uv_signal_t* h, int signum);
    Reactor& reactor_;
    std::unordered_map<int, Watch*> watches_;
    bool registered_ = false;
    bool closed_ = false;
};

// braid_signal_wait: listens for signum and calls cb(ud, BRAID_OK) on a
// worker of core at its next delivery, or the cancel status when the
// operation is aborted or its runtime shuts down first.  BRAID_OK,
// BRAID_EINVAL (a signal that cannot be watched), BRAID_ENOMEM,
// BRAID_ESHUTDOWN.
int wait_signal(braid_task** out, Core* core, int signum, braid_callback cb, void* ud);

}  // namespace braid::detail
