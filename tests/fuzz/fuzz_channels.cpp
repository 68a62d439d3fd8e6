// Operation sequences on oneshot, broadcast and watch channels through the
// C ABI, each checked against a model of its header: results, values (their
// bytes intact, in order, each delivered at most once per receiver), lag
// counts, lengths, versions, closed states, and wake-ups (a waiting receive
// is woken when a value arrives or the last sender goes).  Every value
// instance - sent, cloned for a receiver, replaced - is counted, and every
// one is destroyed exactly once by the end.
#include <braid/broadcast.h>
#include <braid/oneshot.h>
#include <braid/watch.h>

#include <vector>

#include "fuzz_support.hpp"

using braid_fuzz::CountingWaker;
using braid_fuzz::Input;

namespace {

struct Val {
    uint64_t id;
    uint64_t gen;  // watch: bumped by send_modify
    uint64_t check;
};
uint64_t check_of(uint64_t id, uint64_t gen) { return id * 0x9E3779B97F4A7C15ull ^ (gen + 1) * 0xC2B2AE3D27D4EB4Full; }
Val make_val(uint64_t id) { return Val{id, 0, check_of(id, 0)}; }
bool intact(const Val& v) { return v.check == check_of(v.id, v.gen); }

// Live value instances: made by the harness or by a clone, destroyed by the
// harness (what it received or got back) or by the channel (drop).
long g_live = 0;
bool g_fail_clone = false;
void drop_val(void* p) {
    FUZZ_CHECK(intact(*static_cast<Val*>(p)), "the channel destroyed a corrupt value");
    --g_live;
}
void relocate_val(void* dst, void* src) {
    std::memcpy(dst, src, sizeof(Val));
    std::memset(src, 0xdd, sizeof(Val));
}
int clone_val(void* dst, const void* src) {
    if (g_fail_clone) return 1;
    FUZZ_CHECK(intact(*static_cast<const Val*>(src)), "cloned a corrupt value");
    std::memcpy(dst, src, sizeof(Val));
    ++g_live;
    return 0;
}
void mine(const Val& v) {  // the harness destroys a value it holds
    FUZZ_CHECK(intact(v), "a corrupt value reached the harness");
    --g_live;
}

// ---- oneshot ---------------------------------------------------------------------

void oneshot(Input& in) {
    braid_oneshot_tx* tx = nullptr;
    braid_oneshot_rx* rx = nullptr;
    FUZZ_CHECK(braid_oneshot_new(&tx, &rx, sizeof(Val), alignof(Val), in.flag() ? &relocate_val : nullptr, &drop_val) ==
               BRAID_OK);
    bool has_value = false, delivered = false;
    uint64_t sent_id = 0;
    CountingWaker rx_waker, tx_waker;
    bool rx_registered = false, tx_registered = false;
    uint64_t next_id = 1;
    while (!in.empty()) {
        switch (in.below(7)) {
            case 0: {
                if (!tx) break;
                Val v = make_val(next_id++);
                ++g_live;
                Val copy = v;
                int rc = braid_oneshot_send(tx, &v, sizeof v);
                FUZZ_CHECK(rc == (rx ? BRAID_OK : BRAID_ECLOSED));
                if (rc == BRAID_OK) {
                    has_value = true;
                    sent_id = copy.id;
                } else {
                    FUZZ_CHECK(std::memcmp(&v, &copy, sizeof v) == 0, "a value handed back was changed");
                    mine(v);
                }
                tx = nullptr;  // consumed either way
                tx_registered = false;
                break;
            }
            case 1:
                if (!tx) break;
                braid_oneshot_tx_free(tx);
                tx = nullptr;
                tx_registered = false;
                break;
            case 2:
            case 3: {
                if (!rx) break;
                // A poll with a waker, a NULL-waker poll (withdraws: no
                // attempt, the registration goes) or a try (no registration).
                int how = in.below(3);
                Val out{};
                rx_waker = CountingWaker{};
                int rc, want;
                if (how == 0) {
                    rc = braid_oneshot_poll_recv(rx, &CountingWaker::wake, &rx_waker, &out, sizeof out);
                    want = has_value ? BRAID_OK : (tx ? BRAID_PENDING : BRAID_ECLOSED);
                } else if (how == 1) {
                    rc = braid_oneshot_poll_recv(rx, nullptr, nullptr, &out, sizeof out);
                    want = BRAID_PENDING;
                } else {
                    rc = braid_oneshot_try_recv(rx, &out, sizeof out);
                    want = has_value ? BRAID_OK : (tx ? BRAID_EAGAIN : BRAID_ECLOSED);
                }
                bool with_waker = how == 0;
                FUZZ_CHECK(rc == want, "oneshot recv: %d, model %d", rc, want);
                if (rc == BRAID_OK) {
                    FUZZ_CHECK(out.id == sent_id && !delivered);
                    mine(out);
                    has_value = false;
                    delivered = true;
                }
                rx_registered = with_waker && rc == BRAID_PENDING;
                break;
            }
            case 4:
                if (!rx) break;
                has_value = false;  // a value not received is destroyed with it (drop)
                braid_oneshot_rx_free(rx);
                rx = nullptr;
                rx_registered = false;
                break;
            case 5: {
                if (!tx) break;
                bool with_waker = in.flag();
                tx_waker = CountingWaker{};
                int rc = braid_oneshot_tx_poll_closed(tx, with_waker ? &CountingWaker::wake : nullptr, &tx_waker);
                // A NULL waker withdraws: BRAID_PENDING, closed or not.
                FUZZ_CHECK(rc == (rx || !with_waker ? BRAID_PENDING : BRAID_OK));
                tx_registered = with_waker && rc == BRAID_PENDING;
                FUZZ_CHECK(braid_oneshot_tx_is_closed(tx) == (rx ? 0 : 1));
                break;
            }
            default:
                if (rx) {
                    FUZZ_CHECK(braid_oneshot_recv_unregister(rx) == BRAID_OK);
                    rx_registered = false;
                }
                break;
        }
        if (rx_registered && (has_value || !tx)) FUZZ_CHECK(rx_waker.calls > 0, "oneshot receiver not woken");
        if (tx_registered && !rx) FUZZ_CHECK(tx_waker.calls > 0, "oneshot closed() not woken");
    }
    braid_oneshot_tx_free(tx);
    braid_oneshot_rx_free(rx);
}

// ---- broadcast ---------------------------------------------------------------------

struct BRx {
    braid_broadcast_rx* h = nullptr;
    uint64_t next = 0;
    braid_waiter* w = nullptr;
    CountingWaker waker;
    uint64_t woken_at_tail = 0;  // sends and sender drops seen when it started waiting
    bool waiting = false;
};

void broadcast(Input& in) {
    static constexpr size_t kCaps[] = {1, 2, 3, 4, 16, 17, size_t(1) << 40, SIZE_MAX};
    size_t cap = kCaps[in.below(8)];
    braid_broadcast_tx* txs[2] = {};
    FUZZ_CHECK(braid_broadcast_new(&txs[0], cap, sizeof(Val), alignof(Val), in.flag() ? &relocate_val : nullptr,
                                   &clone_val, &drop_val) == BRAID_OK);
    size_t tx_count = 1;
    std::vector<Val> sent;  // every value sent; position = index
    BRx rxs[3];
    uint64_t events = 0;    // sends and the last sender leaving: what wakes receivers
    uint64_t next_id = 1;
    auto oldest = [&] { return sent.size() > cap ? uint64_t(sent.size() - cap) : uint64_t(0); };
    auto alive_rx = [&] {
        size_t n = 0;
        for (auto& r : rxs) n += r.h != nullptr;
        return n;
    };
    // Receivers still to read position p (the last of them moves it out).
    auto readers_of = [&](uint64_t p) {
        size_t n = 0;
        for (auto& r : rxs) n += r.h && r.next <= p;
        return n;
    };
    auto any_tx = [&]() -> braid_broadcast_tx* { return txs[0] ? txs[0] : txs[1]; };
    // The model's receive for r: the result, the value (OK) or lag count.
    auto receive = [&](BRx& r, bool waiting, Val* out, uint64_t* lagged) -> int {
        (void)out;
        if (r.next < sent.size()) {
            if (r.next < oldest()) {
                *lagged = oldest() - r.next;
                r.next = oldest();
                return BRAID_BROADCAST_LAGGED;
            }
            if (g_fail_clone && readers_of(r.next) > 1) return BRAID_EPANIC;
            ++r.next;
            return BRAID_OK;
        }
        if (tx_count == 0) return BRAID_ECLOSED;
        return waiting ? BRAID_PENDING : BRAID_EAGAIN;
    };
    while (!in.empty()) {
        BRx& r = rxs[in.below(3)];
        g_fail_clone = in.u8() % 8 == 0;
        switch (in.below(8)) {
            case 0:
            case 1: {  // send
                braid_broadcast_tx* tx = any_tx();
                if (!tx) break;
                Val v = make_val(next_id++);
                ++g_live;
                Val copy = v;
                size_t receivers = 99;
                int rc = braid_broadcast_send(tx, &v, sizeof v, &receivers);
                size_t n = alive_rx();
                FUZZ_CHECK(rc == (n ? BRAID_OK : BRAID_ECLOSED), "send: %d with %zu receivers", rc, n);
                if (rc == BRAID_OK) {
                    FUZZ_CHECK(receivers == n);
                    // A value nobody will read again is destroyed when overwritten.
                    sent.push_back(copy);
                    ++events;
                } else {
                    FUZZ_CHECK(std::memcmp(&v, &copy, sizeof v) == 0);
                    mine(v);
                }
                break;
            }
            case 2: {  // receive without waiting
                if (!r.h || r.waiting) break;
                uint64_t before = r.next;
                Val out{};
                uint64_t lagged = 77, want_lag = 0;
                int rc = braid_broadcast_try_recv(r.h, &out, sizeof out, &lagged);
                int want = receive(r, false, &out, &want_lag);
                FUZZ_CHECK(rc == want, "try_recv: %d, model %d", rc, want);
                if (rc == BRAID_OK) {
                    FUZZ_CHECK(std::memcmp(&out, &sent[before], sizeof out) == 0, "received the wrong value");
                    mine(out);
                }
                if (rc == BRAID_BROADCAST_LAGGED) FUZZ_CHECK(lagged == want_lag, "lagged %llu, model %llu",
                                                            (unsigned long long)lagged, (unsigned long long)want_lag);
                break;
            }
            case 3: {  // receive, waiting: a new wait or the next poll of one
                if (!r.h) break;
                if (r.waiting && r.waker.calls == 0 && events > r.woken_at_tail)
                    FUZZ_CHECK(false, "a waiting receive was not woken by a send");
                uint64_t before = r.next;
                Val out{};
                uint64_t lagged = 77, want_lag = 0;
                bool notified = r.waiting && events > r.woken_at_tail;
                int rc = braid_broadcast_poll_recv(r.h, &out, sizeof out, &lagged, &r.w, &CountingWaker::wake, &r.waker);
                int want = (r.waiting && !notified) ? BRAID_PENDING : receive(r, true, &out, &want_lag);
                FUZZ_CHECK(rc == want, "poll_recv: %d, model %d", rc, want);
                if (rc == BRAID_OK) {
                    FUZZ_CHECK(std::memcmp(&out, &sent[before], sizeof out) == 0, "received the wrong value");
                    mine(out);
                }
                if (rc == BRAID_BROADCAST_LAGGED) FUZZ_CHECK(lagged == want_lag);
                if (rc == BRAID_PENDING && !(r.waiting && !notified)) {
                    r.waiting = true;
                    r.woken_at_tail = events;
                    r.waker = CountingWaker{};
                } else if (rc != BRAID_PENDING) {
                    r.waiting = false;
                    FUZZ_CHECK(r.w == nullptr);
                }
                break;
            }
            case 4:  // cancel a wait: nothing is lost
                if (!r.h) break;
                braid_broadcast_cancel_recv(r.h, &r.w);
                FUZZ_CHECK(r.w == nullptr);
                r.waiting = false;
                break;
            case 5: {  // subscribe (or resubscribe), or drop
                if (r.h) {
                    braid_broadcast_cancel_recv(r.h, &r.w);
                    braid_broadcast_rx_free(r.h);
                    r = BRx{};
                    break;
                }
                BRx* other = nullptr;
                for (auto& o : rxs)
                    if (o.h) other = &o;
                int rc = other && in.flag() ? braid_broadcast_rx_resubscribe(&r.h, other->h)
                                            : (any_tx() ? braid_broadcast_subscribe(&r.h, any_tx()) : BRAID_EINVAL);
                if (rc == BRAID_OK) r.next = sent.size();
                break;
            }
            case 6: {  // senders come and go
                size_t i = in.below(2);
                if (txs[i]) {
                    braid_broadcast_tx_free(txs[i]);
                    txs[i] = nullptr;
                    if (--tx_count == 0) ++events;
                } else if (txs[1 - i]) {
                    FUZZ_CHECK(braid_broadcast_tx_clone(&txs[i], txs[1 - i]) == BRAID_OK);
                    ++tx_count;
                }
                break;
            }
            default:
                break;
        }
        g_fail_clone = false;
        for (auto& o : rxs) {
            if (!o.h) continue;
            uint64_t want = sent.size() - std::max(o.next, oldest());
            FUZZ_CHECK(braid_broadcast_rx_len(o.h) == want, "len %zu, model %llu", braid_broadcast_rx_len(o.h),
                       (unsigned long long)want);
            if (o.waiting && events > o.woken_at_tail) FUZZ_CHECK(o.waker.calls > 0, "a waiting receive was not woken");
        }
        if (any_tx()) FUZZ_CHECK(braid_broadcast_receiver_count(any_tx()) == alive_rx());
    }
    for (auto& r : rxs)
        if (r.h) {
            braid_broadcast_cancel_recv(r.h, &r.w);
            braid_broadcast_rx_free(r.h);
        }
    for (auto* tx : txs) braid_broadcast_tx_free(tx);
}

// ---- watch ---------------------------------------------------------------------------

int modify_val(void* value, void* user_data) {
    if (!*static_cast<bool*>(user_data)) return 0;
    auto* v = static_cast<Val*>(value);
    FUZZ_CHECK(intact(*v));
    ++v->gen;
    v->check = check_of(v->id, v->gen);
    return 1;
}

struct WRx {
    braid_watch_rx* h = nullptr;
    uint64_t seen = 0;
    braid_waiter* w = nullptr;
    CountingWaker waker;
    bool waiting = false;
    uint64_t events_at_wait = 0;
};

void watch(Input& in) {
    Val cur = make_val(0);
    ++g_live;
    braid_watch_tx* txs[2] = {};
    WRx rxs[3];
    FUZZ_CHECK(braid_watch_new(&txs[0], &rxs[0].h, &cur, sizeof(Val), alignof(Val), in.flag() ? &relocate_val : nullptr,
                               &drop_val) == BRAID_OK);
    cur = make_val(0);  // the model's copy of the value inside
    size_t tx_count = 1;
    uint64_t version = 0, events = 0, next_id = 1;
    auto any_tx = [&]() -> braid_watch_tx* { return txs[0] ? txs[0] : txs[1]; };
    auto alive_rx = [&] {
        size_t n = 0;
        for (auto& r : rxs) n += r.h != nullptr;
        return n;
    };
    while (!in.empty()) {
        WRx& r = rxs[in.below(3)];
        braid_watch_tx* tx = any_tx();
        switch (in.below(9)) {
            case 0: {  // send
                if (!tx) break;
                Val v = make_val(next_id++);
                ++g_live;
                Val copy = v;
                int rc = braid_watch_send(tx, &v, sizeof v);
                FUZZ_CHECK(rc == (alive_rx() ? BRAID_OK : BRAID_ECLOSED));
                if (rc == BRAID_OK) {  // the old value was destroyed (drop), the new one is inside
                    cur = copy;
                    ++version;
                    ++events;
                } else {
                    mine(v);
                }
                break;
            }
            case 1: {  // send_replace: the old value comes back
                if (!tx) break;
                Val v = make_val(next_id++);
                ++g_live;
                Val copy = v;
                FUZZ_CHECK(braid_watch_send_replace(tx, &v, sizeof v) == BRAID_OK);
                FUZZ_CHECK(std::memcmp(&v, &cur, sizeof v) == 0, "send_replace gave back the wrong value");
                mine(v);
                cur = copy;
                ++version;
                ++events;
                break;
            }
            case 2: {  // send_modify
                if (!tx) break;
                bool change = in.flag();
                int modified = 7;
                FUZZ_CHECK(braid_watch_send_modify(tx, &modify_val, &change, &modified) == BRAID_OK);
                FUZZ_CHECK(modified == int(change));
                if (change) {
                    ++cur.gen;
                    cur.check = check_of(cur.id, cur.gen);
                    ++version;
                    ++events;
                }
                break;
            }
            case 3: {  // borrow (receiver, or sender)
                const void* p = nullptr;
                if (r.h && in.flag()) {
                    int mark = in.flag(), changed = 9;
                    FUZZ_CHECK(braid_watch_rx_borrow(r.h, mark, &p, &changed) == BRAID_OK);
                    FUZZ_CHECK(changed == int(r.seen != version));
                    FUZZ_CHECK(std::memcmp(p, &cur, sizeof cur) == 0, "borrowed the wrong value");
                    FUZZ_CHECK(braid_watch_rx_borrow_end(r.h) == BRAID_OK);
                    // An unbalanced end is refused and unlocks nothing (a
                    // send still gets the write lock below).
                    FUZZ_CHECK(braid_watch_rx_borrow_end(r.h) == BRAID_EINVAL);
                    if (mark) r.seen = version;
                } else if (tx) {
                    FUZZ_CHECK(braid_watch_tx_borrow(tx, &p) == BRAID_OK);
                    FUZZ_CHECK(std::memcmp(p, &cur, sizeof cur) == 0);
                    FUZZ_CHECK(braid_watch_tx_borrow_end(tx) == BRAID_OK);
                    FUZZ_CHECK(braid_watch_tx_borrow_end(tx) == BRAID_EINVAL);
                }
                break;
            }
            case 4: {  // has_changed
                if (!r.h) break;
                int want = r.seen != version ? 1 : (tx_count ? 0 : BRAID_ECLOSED);
                FUZZ_CHECK(braid_watch_rx_has_changed(r.h) == want);
                break;
            }
            case 5: {  // wait for a change: a new wait or the next poll of one
                if (!r.h) break;
                bool notified = r.waiting && events > r.events_at_wait;
                if (notified) FUZZ_CHECK(r.waker.calls > 0, "a waiting changed() was not woken");
                int rc = braid_watch_rx_poll_changed(r.h, &r.w, &CountingWaker::wake, &r.waker);
                int want;
                if (r.waiting && !notified) want = BRAID_PENDING;
                else want = r.seen != version ? BRAID_OK : (tx_count ? BRAID_PENDING : BRAID_ECLOSED);
                FUZZ_CHECK(rc == want, "poll_changed: %d, model %d", rc, want);
                if (rc == BRAID_OK) r.seen = version;
                if (rc == BRAID_PENDING && !(r.waiting && !notified)) {
                    r.waiting = true;
                    r.events_at_wait = events;
                    r.waker = CountingWaker{};
                } else if (rc != BRAID_PENDING) {
                    r.waiting = false;
                }
                break;
            }
            case 6:  // cancel a wait
                if (!r.h) break;
                braid_watch_rx_cancel_changed(r.h, &r.w);
                r.waiting = false;
                break;
            case 7: {  // receivers come and go
                if (r.h) {
                    braid_watch_rx_cancel_changed(r.h, &r.w);
                    braid_watch_rx_free(r.h);
                    r = WRx{};
                    break;
                }
                WRx* other = nullptr;
                for (auto& o : rxs)
                    if (o.h) other = &o;
                if (other && in.flag()) {
                    FUZZ_CHECK(braid_watch_rx_clone(&r.h, other->h) == BRAID_OK);
                    r.seen = other->seen;
                } else if (tx) {
                    FUZZ_CHECK(braid_watch_subscribe(&r.h, tx) == BRAID_OK);
                    r.seen = version;
                }
                break;
            }
            default: {  // senders come and go
                size_t i = in.below(2);
                if (txs[i]) {
                    braid_watch_tx_free(txs[i]);
                    txs[i] = nullptr;
                    if (--tx_count == 0) ++events;
                } else if (txs[1 - i]) {
                    FUZZ_CHECK(braid_watch_tx_clone(&txs[i], txs[1 - i]) == BRAID_OK);
                    ++tx_count;
                }
                break;
            }
        }
        for (auto& o : rxs)
            if (o.waiting && events > o.events_at_wait) FUZZ_CHECK(o.waker.calls > 0, "a waiting changed() was not woken");
        if (auto* t = any_tx()) {
            FUZZ_CHECK(braid_watch_receiver_count(t) == alive_rx());
            FUZZ_CHECK(braid_watch_tx_is_closed(t) == (alive_rx() ? 0 : 1));
        }
    }
    for (auto& r : rxs)
        if (r.h) {
            braid_watch_rx_cancel_changed(r.h, &r.w);
            braid_watch_rx_free(r.h);
        }
    for (auto* t : txs) braid_watch_tx_free(t);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    Input in(data, size);
    g_live = 0;
    switch (in.u8() % 3) {
        case 0: oneshot(in); break;
        case 1: broadcast(in); break;
        default: watch(in); break;
    }
    FUZZ_CHECK(g_live == 0, "%ld value instances were not destroyed (or destroyed twice)", g_live);
    return 0;
}
