// A set of tasks joined in completion order (Tokio's JoinSet).  Each task's
// join slot points at its entry; a task that finishes moves its entry to the
// ready queue and wakes whoever waits on the set.
#pragma once

#include <braid/task.h>

#include <cstdint>
#include <mutex>

#include "sync/waker_slot.hpp"
#include "task/task.hpp"

namespace braid::detail {

class JoinSet {
public:
    ~JoinSet();  // aborts what is still running and lets go of every handle

    // Takes over a join handle.  BRAID_EBUSY: the task has another joiner.
    int add(Task* t, void* user);
    // 0 with a finished task (the caller owns its handle) and its user data;
    // BRAID_ECLOSED when the set is empty; BRAID_PENDING (waker registered; a
    // NULL waker only looks).
    int poll_next(braid_wake_fn wake, void* data, Task** out, void** user);
    void unregister();
    std::size_t size();
    void abort_all();
    void detach_all();

private:
    struct Entry {
        JoinSet* set;
        Task* task;
        void* user;
        Entry* prev = nullptr;
        Entry* next = nullptr;
        enum State : uint8_t { Running, Ready, Gone } state = Running;
    };
    struct List {
        Entry* head = nullptr;
        Entry* tail = nullptr;
        void push(Entry* e);
        void remove(Entry* e);
    };
    static void on_done(void* entry);
    void release(Entry* e);  // unregisters from its task and frees the entry (not the handle)

    std::mutex mu_;
    List running_;
    List ready_;
    std::size_t size_ = 0;
    WakerSlot waiter_;
};

}  // namespace braid::detail
