// Operation sequences on an mpsc channel through the C ABI, checked against
// a model of mpsc.h: bounded (small capacities, and a huge one that keeps
// its values in blocks) or unbounded; several senders, weak senders, waits
// polled, cancelled and unregistered, reservations (also misused: filling or releasing
// more than was reserved is refused and changes nothing), receives one and
// many at a time, close, dropping the receiver.
//
// Checked after every operation: each result against the model; values
// arrive exactly in the order they went in (one thread: the model's order),
// each at most once, with their bytes intact; the free room never exceeds
// the capacity and equals the model's; len, counts and closed states; every
// wait the model completed while its waker was registered (not after an
// unregister: it keeps its place and is woken no more), and a receiver registered when a value arrived
// or the channel finished, was woken.  At the end every value is accounted
// for exactly once: received, destroyed by the channel, or handed back.
#include <braid/mpsc.h>

#include <vector>

#include "fuzz_model.hpp"

using braid_fuzz::CountingWaker;
using braid_fuzz::Input;
using braid_fuzz::PermitModel;

namespace {

struct Val {
    uint64_t id;
    uint64_t sender;
    uint64_t check;
};
uint64_t check_of(uint64_t id, uint64_t sender) { return id * 0x9E3779B97F4A7C15ull ^ sender; }

enum Fate : uint8_t { kInHand, kInChannel, kReceived, kDropped, kReturned };
std::vector<Fate>* g_fate;

void drop_val(void* p) {
    auto* v = static_cast<Val*>(p);
    FUZZ_CHECK(v->id < g_fate->size() && v->check == check_of(v->id, v->sender), "dropped a corrupt value");
    FUZZ_CHECK((*g_fate)[v->id] == kInChannel, "value %llu dropped in state %d", (unsigned long long)v->id,
               int((*g_fate)[v->id]));
    (*g_fate)[v->id] = kDropped;
}
// Moves and leaves garbage behind, so that a use of a moved-from value shows.
void relocate_val(void* dst, void* src) {
    std::memcpy(dst, src, sizeof(Val));
    std::memset(src, 0xdd, sizeof(Val));
}

enum PendingKind { kNone, kSend, kReserve };

struct Sender {
    braid_mpsc_tx* tx = nullptr;
    PendingKind pending = kNone;
    braid_waiter* w = nullptr;
    int wait_id = 0;
    uint64_t n = 0;
    bool registered = false;  // the pending wait's waker is registered
    Val value{};
    CountingWaker waker;
};

struct Harness {
    Input& in;
    std::vector<Fate> fate;
    size_t cap;  // 0: unbounded
    PermitModel room;
    std::deque<Val> queue;
    uint64_t reserved = 0;
    size_t senders = 1, weaks = 0;
    bool rx_alive = true, closed = false, rx_registered = false;
    braid_mpsc_rx* rx = nullptr;
    Sender tx[3];
    braid_mpsc_weak_tx* weak[2] = {};
    CountingWaker rx_waker;
    int next_wait = 1;

    Harness(Input& i, size_t c) : in(i), cap(c), room(c, c) {}

    bool bounded() const { return cap != 0; }
    bool finished() const {
        return queue.empty() && (senders == 0 || (closed && (!bounded() || room.free() == cap)));
    }
    Val make(size_t s) {
        uint64_t id = fate.size();
        fate.push_back(kInHand);
        return Val{id, s, check_of(id, s)};
    }
    void back_in_hand(const Val& v, const Val& now) {
        FUZZ_CHECK(std::memcmp(&v, &now, sizeof v) == 0, "a value handed back was changed");
        fate[v.id] = kReturned;
    }
    // The model's push after a permit was granted (or for unbounded).
    int push(const Val& v) {
        if (!rx_alive) {
            if (bounded()) FUZZ_CHECK(room.release(1) == BRAID_OK);
            return BRAID_ECLOSED;
        }
        queue.push_back(v);
        fate[v.id] = kInChannel;
        return BRAID_OK;
    }
    void got(const Val& v) {
        FUZZ_CHECK(!queue.empty(), "received a value the model does not have");
        const Val& want = queue.front();
        FUZZ_CHECK(std::memcmp(&v, &want, sizeof v) == 0, "received id %llu, expected id %llu",
                   (unsigned long long)v.id, (unsigned long long)want.id);
        FUZZ_CHECK(fate[v.id] == kInChannel);
        fate[v.id] = kReceived;
        queue.pop_front();
        if (bounded()) FUZZ_CHECK(room.release(1) == BRAID_OK);
    }

    void send_op(Sender& s, size_t si, bool waiting) {
        if (s.pending == kSend) {  // the next poll of the waiting send
            bool done = room.completed(s.wait_id);
            Val before = s.value;
            s.registered = true;
            s.waker = CountingWaker{};
            int rc = braid_mpsc_poll_send(s.tx, &s.value, sizeof(Val), &s.w, &CountingWaker::wake, &s.waker);
            int want = room.poll_again(s.wait_id);
            if (want == BRAID_OK) want = push(before);
            FUZZ_CHECK(rc == want, "send poll again: %d, model %d (completed %d)", rc, want, int(done));
            if (rc == BRAID_PENDING) return;
            FUZZ_CHECK(s.w == nullptr);
            s.pending = kNone;
            if (rc != BRAID_OK) back_in_hand(before, s.value);
            return;
        }
        if (s.pending != kNone) return;
        Val v = make(si);
        Val copy = v;
        int rc, want;
        if (!waiting) {
            rc = braid_mpsc_try_send(s.tx, &v, sizeof v);
            if (!bounded()) want = closed ? BRAID_ECLOSED : push(copy);
            else if ((want = room.try_acquire(1)) == BRAID_OK) want = push(copy);
        } else {
            rc = braid_mpsc_poll_send(s.tx, &v, sizeof v, &s.w, &CountingWaker::wake, &s.waker);
            if (!bounded()) want = closed ? BRAID_ECLOSED : push(copy);
            else if ((want = room.poll_first(next_wait, 1)) == BRAID_OK) want = push(copy);
        }
        FUZZ_CHECK(rc == want, "send: %d, model %d", rc, want);
        if (rc == BRAID_PENDING) {
            FUZZ_CHECK(s.w != nullptr);
            s.pending = kSend;
            s.wait_id = next_wait++;
            s.value = v;
            s.registered = true;
            s.waker = CountingWaker{};
        } else if (rc != BRAID_OK) {
            back_in_hand(copy, v);
        }
    }

    void reserve_op(Sender& s, bool waiting) {
        if (s.pending == kReserve) {
            s.registered = true;
            s.waker = CountingWaker{};
            int rc = braid_mpsc_poll_reserve(s.tx, size_t(s.n), &s.w, &CountingWaker::wake, &s.waker);
            int want = room.poll_again(s.wait_id);
            if (want == BRAID_OK) reserved += s.n;
            FUZZ_CHECK(rc == want, "reserve poll again: %d, model %d", rc, want);
            if (rc != BRAID_PENDING) s.pending = kNone;
            return;
        }
        if (s.pending != kNone) return;
        uint64_t n = in.flag() ? in.below(4) : in.size_edge(4);
        int rc = waiting ? braid_mpsc_poll_reserve(s.tx, size_t(n), &s.w, &CountingWaker::wake, &s.waker)
                         : braid_mpsc_try_reserve(s.tx, size_t(n));
        int want;
        if (!bounded()) want = BRAID_ENOTSUP;
        else if (n > cap) want = BRAID_ERANGE;
        else if (waiting) want = room.poll_first(next_wait, n);
        else want = room.try_acquire(n);
        if (want == BRAID_OK) reserved += n;
        FUZZ_CHECK(rc == want, "reserve(%llu): %d, model %d", (unsigned long long)n, rc, want);
        if (rc == BRAID_PENDING) {
            s.pending = kReserve;
            s.n = n;
            s.wait_id = next_wait++;
            s.registered = true;
            s.waker = CountingWaker{};
        }
    }

    void cancel_op(Sender& s) {
        if (s.pending == kNone) {
            braid_mpsc_cancel_send(s.tx, &s.w);  // nothing waits: a no-op
            return;
        }
        if (s.pending == kSend) braid_mpsc_cancel_send(s.tx, &s.w);
        else braid_mpsc_cancel_reserve(s.tx, &s.w);
        FUZZ_CHECK(s.w == nullptr);
        room.cancel(s.wait_id);
        if (s.pending == kSend) fate[s.value.id] = kReturned;
        s.pending = kNone;
    }

    // Unregister a waiting send or reserve: it keeps its place (and the
    // value, and what it was granted) and is not woken until polled again.
    void unregister_op(Sender& s) {
        if (s.pending == kNone) {
            braid_mpsc_unregister_send(s.tx, &s.w);  // nothing waits: a no-op
            FUZZ_CHECK(s.w == nullptr);
            return;
        }
        if (s.pending == kSend) braid_mpsc_unregister_send(s.tx, &s.w);
        else braid_mpsc_unregister_reserve(s.tx, &s.w);
        FUZZ_CHECK(s.w != nullptr, "unregister dropped the wait");
        s.registered = false;
        s.waker = CountingWaker{};
    }

    void send_reserved_op(Sender& s, size_t si) {
        Val v = make(si);
        Val copy = v;
        int rc = braid_mpsc_send_reserved(s.tx, &v, sizeof v);
        int want;
        if (!bounded()) want = BRAID_ENOTSUP;
        else if (reserved == 0) want = BRAID_EINVAL;
        else {
            --reserved;
            want = push(copy);
        }
        FUZZ_CHECK(rc == want, "send_reserved: %d, model %d", rc, want);
        if (rc != BRAID_OK) back_in_hand(copy, v);
    }

    void release_op(Sender& s) {
        uint64_t n = in.flag() ? in.below(4) : (in.flag() ? reserved + in.below(3) : in.size_edge(4));
        int rc = braid_mpsc_release_reserved(s.tx, size_t(n));
        int want;
        if (!bounded()) want = BRAID_ENOTSUP;
        else if (n == 0) want = BRAID_OK;
        else if (n > reserved) want = BRAID_EINVAL;
        else {
            reserved -= n;
            FUZZ_CHECK(room.release(n) == BRAID_OK);
            want = BRAID_OK;
        }
        FUZZ_CHECK(rc == want, "release_reserved(%llu) with %llu reserved: %d, model %d", (unsigned long long)n,
                   (unsigned long long)reserved, rc, want);
    }

    void recv_op(int how) {
        if (!rx_alive) return;
        size_t limit = how == 2 ? in.range(1, 5) : 1;
        Val out[5];
        size_t count = 0;
        int rc;
        if (how == 0) {
            rc = braid_mpsc_try_recv(rx, &out[0], sizeof(Val));
            count = rc == BRAID_OK;
        } else if (how == 1) {
            rx_waker = CountingWaker{};
            rc = braid_mpsc_poll_recv(rx, &out[0], sizeof(Val), &CountingWaker::wake, &rx_waker);
            count = rc == BRAID_OK;
        } else {
            rx_waker = CountingWaker{};
            rc = braid_mpsc_poll_recv_many(rx, out, sizeof(Val), limit, &count, &CountingWaker::wake, &rx_waker);
        }
        int want = !queue.empty() ? BRAID_OK : finished() ? BRAID_ECLOSED : how == 0 ? BRAID_EAGAIN : BRAID_PENDING;
        size_t want_count = std::min(limit, queue.size());
        FUZZ_CHECK(rc == want, "recv: %d, model %d", rc, want);
        FUZZ_CHECK(count == (rc == BRAID_OK ? want_count : 0), "received %zu, model %zu", count, want_count);
        for (size_t i = 0; i < count; ++i) got(out[i]);
        rx_registered = how != 0 && rc == BRAID_PENDING;
    }

    void free_sender(size_t i) {
        Sender& s = tx[i];
        if (!s.tx) return;
        cancel_op(s);
        braid_mpsc_tx_free(s.tx);
        s = Sender{};
        --senders;
    }

    void check_state() {
        for (Sender& s : tx) {
            if (!s.tx) continue;
            size_t room_now = braid_mpsc_tx_capacity(s.tx);
            FUZZ_CHECK(room_now == (bounded() ? room.free() : SIZE_MAX), "room %zu, model %llu", room_now,
                       (unsigned long long)room.free());
            FUZZ_CHECK(braid_mpsc_tx_max_capacity(s.tx) == (bounded() ? cap : SIZE_MAX));
            FUZZ_CHECK(braid_mpsc_tx_strong_count(s.tx) == senders);
            FUZZ_CHECK(braid_mpsc_tx_weak_count(s.tx) == weaks);
            FUZZ_CHECK(braid_mpsc_tx_is_closed(s.tx) == int(closed));
            break;
        }
        for (Sender& s : tx) {
            if (!s.tx || s.pending == kNone) continue;
            if (s.registered && room.completed(s.wait_id))
                FUZZ_CHECK(s.waker.calls > 0, "wait %d completed but was not woken", s.wait_id);
            if (!s.registered) FUZZ_CHECK(s.waker.calls == 0, "wait %d woken after unregister", s.wait_id);
        }
        if (rx_alive) {
            FUZZ_CHECK(braid_mpsc_rx_len(rx) == queue.size(), "len %zu, model %zu", braid_mpsc_rx_len(rx), queue.size());
            FUZZ_CHECK(braid_mpsc_rx_is_closed(rx) == int(closed || senders == 0));
            if (rx_registered && (!queue.empty() || finished()))
                FUZZ_CHECK(rx_waker.calls > 0, "the receiver was not woken (%zu values, finished %d)", queue.size(),
                           int(finished()));
        }
    }

    void run() {
        while (!in.empty()) {
            size_t si = in.below(3);
            Sender& s = tx[si];
            uint8_t op = in.u8() % 16;
            if (!s.tx && op < 7) op = 7 + op % 9;  // sender operations need a sender
            switch (op) {
                case 0: send_op(s, si, false); break;
                case 1: send_op(s, si, true); break;
                case 2: cancel_op(s); break;
                case 3: reserve_op(s, in.flag()); break;
                case 4: send_reserved_op(s, si); break;
                case 5: release_op(s); break;
                case 6: free_sender(si); break;
                case 7: case 8: case 9: recv_op(op - 7); break;
                case 10: {  // a new sender: clone, or upgrade a weak one
                    size_t from = in.below(3);
                    if (s.tx || !tx[from].tx) {
                        size_t wi = in.below(2);
                        if (!weak[wi]) break;
                        braid_mpsc_tx* up = nullptr;
                        int rc = braid_mpsc_weak_tx_upgrade(&up, weak[wi]);
                        FUZZ_CHECK(rc == (senders ? BRAID_OK : BRAID_ECLOSED));
                        if (rc != BRAID_OK) break;
                        ++senders;
                        size_t slot = 0;
                        while (slot < 3 && tx[slot].tx) ++slot;
                        if (slot == 3) {
                            braid_mpsc_tx_free(up);
                            --senders;
                        } else {
                            tx[slot].tx = up;
                        }
                        break;
                    }
                    FUZZ_CHECK(braid_mpsc_tx_clone(&s.tx, tx[from].tx) == BRAID_OK);
                    ++senders;
                    break;
                }
                case 11: {  // weak senders
                    size_t wi = in.below(2);
                    if (weak[wi]) {
                        braid_mpsc_weak_tx_free(weak[wi]);
                        weak[wi] = nullptr;
                        --weaks;
                    } else if (s.tx) {
                        FUZZ_CHECK(braid_mpsc_tx_downgrade(&weak[wi], s.tx) == BRAID_OK);
                        ++weaks;
                    }
                    break;
                }
                case 12:
                    if (!rx_alive) break;
                    braid_mpsc_rx_close(rx);
                    closed = true;
                    if (bounded()) room.close();
                    rx_registered = false;  // closing does not wake the receiver itself
                    break;
                case 13:
                    if (!rx_alive) break;
                    braid_mpsc_rx_free(rx);
                    rx = nullptr;
                    rx_alive = false;
                    if (!closed && bounded()) room.close();
                    closed = true;
                    rx_registered = false;
                    for (const Val& v : queue) FUZZ_CHECK(fate[v.id] == kDropped, "value %llu not destroyed", (unsigned long long)v.id);
                    queue.clear();
                    break;
                case 14:
                    if (rx_alive) {
                        FUZZ_CHECK(braid_mpsc_recv_unregister(rx) == BRAID_OK);
                        rx_registered = false;
                    }
                    break;
                default:
                    if (s.tx) unregister_op(s);
                    break;
            }
            // A sender that left with the last registration of the receiver.
            check_state();
        }
        for (size_t i = 0; i < 3; ++i) free_sender(i);
        if (rx_alive) {
            braid_mpsc_rx_free(rx);
            for (const Val& v : queue) FUZZ_CHECK(fate[v.id] == kDropped);
            queue.clear();
        }
        for (auto*& w : weak)
            if (w) braid_mpsc_weak_tx_free(w);
        for (size_t id = 0; id < fate.size(); ++id)
            FUZZ_CHECK(fate[id] == kReceived || fate[id] == kDropped || fate[id] == kReturned,
                       "value %zu ended in state %d", id, int(fate[id]));
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    Input in(data, size);
    static constexpr size_t kCaps[] = {1, 1, 2, 3, 4, 8, size_t(1) << 40, 0};
    size_t cap = kCaps[in.below(8)];
    bool relocate = in.flag();
    Harness h(in, cap);
    g_fate = &h.fate;
    braid_mpsc_tx* first = nullptr;
    int rc = cap ? braid_mpsc_new(&first, &h.rx, cap, sizeof(Val), alignof(Val), relocate ? &relocate_val : nullptr,
                                  &drop_val)
                 : braid_mpsc_new_unbounded(&first, &h.rx, sizeof(Val), alignof(Val),
                                            relocate ? &relocate_val : nullptr, &drop_val);
    FUZZ_CHECK(rc == BRAID_OK);
    h.tx[0].tx = first;
    h.run();
    g_fate = nullptr;
    return 0;
}
