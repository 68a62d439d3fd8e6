// Every live worker task of a runtime, so that shutdown can cancel the ones
// that sit in no queue (waiting on a timer, a channel, I/O).  Sharded lists
// keep spawns on different workers off each other's lock.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>

#include "util/spin_lock.hpp"

#include "task/task.hpp"

namespace braid::detail {

class OwnedTasks {
public:
    static constexpr std::size_t kShards = 32;

    // False once closed (shutdown): the task was not added.
    bool insert(Task* t) {
        Shard& s = shards_[t->id % kShards];
        std::lock_guard<SpinLock> g(s.mu);
        if (s.closed) return false;
        t->owned_shard = uint8_t(t->id % kShards);
        t->owned_prev = nullptr;
        t->owned_next = s.head;
        if (s.head) s.head->owned_prev = t;
        s.head = t;
        t->in_owned = true;
        return true;
    }

    void remove(Task* t) {
        Shard& s = shards_[t->owned_shard];
        std::lock_guard<SpinLock> g(s.mu);
        unlink(s, t);
    }

    void close() {
        for (Shard& s : shards_) {
            std::lock_guard<SpinLock> g(s.mu);
            s.closed = true;
        }
    }

    // Removes and returns one task, or nullptr when all are gone.
    Task* pop() {
        for (Shard& s : shards_) {
            std::lock_guard<SpinLock> g(s.mu);
            if (Task* t = s.head) {
                unlink(s, t);
                return t;
            }
        }
        return nullptr;
    }

    // Calls f(t) for every task, under its shard's lock (f must be quick:
    // the task dump takes a reference there).
    template <class F>
    void for_each(F&& f) {
        for (Shard& s : shards_) {
            std::lock_guard<SpinLock> g(s.mu);
            for (Task* t = s.head; t; t = t->owned_next) f(t);
        }
    }

private:
    struct alignas(64) Shard {
        SpinLock mu;  // held for a few pointer moves
        Task* head = nullptr;
        bool closed = false;
    };
    static void unlink(Shard& s, Task* t) {
        if (!t->in_owned) return;
        if (t->owned_prev) t->owned_prev->owned_next = t->owned_next; else s.head = t->owned_next;
        if (t->owned_next) t->owned_next->owned_prev = t->owned_prev;
        t->owned_prev = t->owned_next = nullptr;
        t->in_owned = false;
    }
    std::array<Shard, kShards> shards_;
};

}  // namespace braid::detail
