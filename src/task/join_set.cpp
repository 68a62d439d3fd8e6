#include "task/join_set.hpp"

#include <braid/error.h>

#include <new>
#include <vector>

#include "task/coop.hpp"

namespace braid::detail {

void JoinSet::List::push(Entry* e) {
    e->prev = tail;
    e->next = nullptr;
    if (tail) tail->next = e; else head = e;
    tail = e;
}

void JoinSet::List::remove(Entry* e) {
    if (e->prev) e->prev->next = e->next; else head = e->next;
    if (e->next) e->next->prev = e->prev; else tail = e->prev;
    e->prev = e->next = nullptr;
}

void JoinSet::on_done(void* p) {
    auto* e = static_cast<Entry*>(p);
    JoinSet* s = e->set;
    std::lock_guard<std::mutex> g(s->mu_);
    if (e->state != Entry::Running) return;  // detached meanwhile
    s->running_.remove(e);
    e->state = Entry::Ready;
    s->ready_.push(e);
    s->waiter_.wake();
}

int JoinSet::add(Task* t, void* user) {
    if (!t->claim_join()) return BRAID_EBUSY;
    auto* e = new (std::nothrow) Entry{this, t, user};
    if (!e) {
        t->release_join();
        return BRAID_ENOMEM;
    }
    {
        std::lock_guard<std::mutex> g(mu_);
        running_.push(e);
        ++size_;
    }
    // Registered outside the lock: on_done takes it.
    if (t->poll_join(&JoinSet::on_done, e) != BRAID_PENDING) on_done(e);
    return BRAID_OK;
}

void JoinSet::release(Entry* e) {
    e->task->unregister_join();
    e->task->release_join();
    delete e;
}

int JoinSet::poll_next(braid_wake_fn wake, void* data, Task** out, void** user) {
    Entry* e;
    {
        std::lock_guard<std::mutex> g(mu_);
        e = ready_.head;
        if (!e) {
            if (size_ == 0) return BRAID_ECLOSED;
            if (wake) waiter_.set(wake, data);
            return BRAID_PENDING;
        }
        if (wake && !coop::proceed(wake, data)) return BRAID_PENDING;
        ready_.remove(e);
        e->state = Entry::Gone;
        --size_;
    }
    *out = e->task;
    *user = e->user;
    release(e);
    return BRAID_OK;
}

void JoinSet::unregister() {
    std::lock_guard<std::mutex> g(mu_);
    waiter_.clear();
}

std::size_t JoinSet::size() {
    std::lock_guard<std::mutex> g(mu_);
    return size_;
}

void JoinSet::abort_all() {
    std::lock_guard<std::mutex> g(mu_);
    for (Entry* e = running_.head; e; e = e->next) e->task->abort();
}

void JoinSet::detach_all() {
    std::vector<Entry*> all;
    {
        std::lock_guard<std::mutex> g(mu_);
        for (List* l : {&running_, &ready_})
            while (Entry* e = l->head) {
                l->remove(e);
                e->state = Entry::Gone;
                all.push_back(e);
            }
        size_ = 0;
    }
    for (Entry* e : all) {
        Task* t = e->task;
        release(e);  // outside the lock: unregistering may wait for on_done
        t->unref();
    }
}

JoinSet::~JoinSet() {
    abort_all();
    detach_all();
}

}  // namespace braid::detail
