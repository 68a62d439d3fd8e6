// Every constructor that takes a size, a capacity, an alignment or a
// duration, with fuzzed values (mostly the edges of their types): each
// either refuses with the error its header documents or succeeds, and what
// it made works (a value of that size travels through it intact) without
// allocating memory the arguments do not need.  braid_alloc, channels
// (mpsc bounded and unbounded, broadcast, oneshot, watch), OnceCell, C
// streams, future tasks' state, semaphores, barriers, and the builder's
// durations (a runtime is built and used with the accepted ones).
#include <braid/braid.h>

#include <memory>
#include <vector>

#include "fuzz_support.hpp"

using braid_fuzz::Input;

namespace {

constexpr size_t kMaxElem = size_t(1) << 20;
constexpr uint64_t kMaxPermits = BRAID_SEMAPHORE_MAX_PERMITS;

// What the headers accept for an element type.
bool elem_ok(size_t size, size_t align) {
    return size <= kMaxElem && align != 0 && align <= 4096 && (align & (align - 1)) == 0;
}

size_t fuzz_align(Input& in) {
    static constexpr size_t kAligns[] = {0, 1, 2, 3, 4, 6, 8, 16, 32, 64, 128, 4096, 8192, SIZE_MAX};
    return in.flag() ? kAligns[in.below(sizeof kAligns / sizeof kAligns[0])] : in.size_edge(64);
}

// A value of `size` bytes at `align`, filled with a pattern.
struct Buf {
    size_t size, align;
    void* p = nullptr;
    Buf(size_t s, size_t a, uint8_t seed) : size(s), align(a) {
        size_t bytes = (size ? size : 1) + align - 1;
        bytes -= bytes % align;
        p = std::aligned_alloc(align, bytes);
        FUZZ_CHECK(p != nullptr);
        for (size_t i = 0; i < size; ++i) static_cast<uint8_t*>(p)[i] = uint8_t(seed + i * 7);
    }
    ~Buf() { std::free(p); }
    bool same(const Buf& o) const { return size == 0 || std::memcmp(p, o.p, size) == 0; }
};

void alloc_mode(Input& in) {
    size_t size = in.size_edge(4096);
    // Sizes no allocator can give are refused; sizes a real one could give
    // but that would only measure the machine are brought down to 64 MiB.
    if (size <= size_t(PTRDIFF_MAX) && size > (size_t(1) << 26)) size %= size_t(1) << 26;
    auto* p = static_cast<unsigned char*>(braid_alloc(size));
    if (size > size_t(PTRDIFF_MAX)) {
        FUZZ_CHECK(p == nullptr, "braid_alloc(%zu) gave a block", size);
        return;
    }
    FUZZ_CHECK(p != nullptr && reinterpret_cast<uintptr_t>(p) % 16 == 0, "braid_alloc(%zu)", size);
    if (size) {
        p[0] = 1;
        p[size - 1] = 2;
    }
    braid_free(p, size);
}

void mpsc_mode(Input& in, bool bounded) {
    size_t cap = bounded ? in.size_edge(8) : 0;
    size_t size = in.size_edge(64), align = fuzz_align(in);
    braid_mpsc_tx* tx = nullptr;
    braid_mpsc_rx* rx = nullptr;
    int rc = bounded ? braid_mpsc_new(&tx, &rx, cap, size, align, nullptr, nullptr)
                     : braid_mpsc_new_unbounded(&tx, &rx, size, align, nullptr, nullptr);
    bool ok = elem_ok(size, align) && (!bounded || (cap != 0 && cap <= kMaxPermits));
    FUZZ_CHECK(rc == (ok ? BRAID_OK : BRAID_EINVAL), "mpsc(cap %zu, size %zu, align %zu): %d", cap, size, align, rc);
    if (!ok) {
        FUZZ_CHECK(tx == nullptr && rx == nullptr);
        return;
    }
    FUZZ_CHECK(braid_mpsc_tx_max_capacity(tx) == (bounded ? cap : SIZE_MAX));
    Buf v(size, align, in.u8()), out(size, align, 0), original(size, align, 0);
    std::memcpy(original.p, v.p, size);
    int sent = 0;
    for (int i = 0; i < 3; ++i) sent += braid_mpsc_try_send(tx, v.p, size) == BRAID_OK;
    FUZZ_CHECK(sent == int(bounded ? std::min<size_t>(cap, 3) : 3));
    FUZZ_CHECK(braid_mpsc_rx_len(rx) == size_t(sent));
    if (bounded) FUZZ_CHECK(braid_mpsc_tx_capacity(tx) == cap - size_t(sent));
    FUZZ_CHECK(braid_mpsc_try_recv(rx, out.p, size) == BRAID_OK && out.same(original));
    if (bounded) {
        FUZZ_CHECK(braid_mpsc_try_reserve(tx, 1) == BRAID_OK);
        FUZZ_CHECK(braid_mpsc_send_reserved(tx, v.p, size) == BRAID_OK);
    }
    braid_mpsc_tx_free(tx);
    braid_mpsc_rx_free(rx);
}

void broadcast_mode(Input& in) {
    size_t cap = in.size_edge(8), size = in.size_edge(64), align = fuzz_align(in);
    braid_broadcast_tx* tx = nullptr;
    int rc = braid_broadcast_new(&tx, cap, size, align, nullptr, nullptr, nullptr);
    bool ok = cap != 0 && elem_ok(size, align);
    FUZZ_CHECK(rc == (ok ? BRAID_OK : BRAID_EINVAL), "broadcast(cap %zu, size %zu, align %zu): %d", cap, size, align, rc);
    if (!ok) return;
    braid_broadcast_rx* rx = nullptr;
    FUZZ_CHECK(braid_broadcast_subscribe(&rx, tx) == BRAID_OK);
    Buf v(size, align, in.u8()), out(size, align, 0);
    size_t n = in.range(1, 40);
    for (size_t i = 0; i < n; ++i) FUZZ_CHECK(braid_broadcast_send(tx, v.p, size, nullptr) == BRAID_OK);
    FUZZ_CHECK(braid_broadcast_rx_len(rx) == std::min(n, cap));
    uint64_t lagged = 0;
    rc = braid_broadcast_try_recv(rx, out.p, size, &lagged);
    if (n > cap) {
        FUZZ_CHECK(rc == BRAID_BROADCAST_LAGGED && lagged == n - cap);
        rc = braid_broadcast_try_recv(rx, out.p, size, &lagged);
    }
    FUZZ_CHECK(rc == BRAID_OK && out.same(v));
    braid_broadcast_rx_free(rx);
    braid_broadcast_tx_free(tx);
}

int never_ready(void*, void*, braid_wake_fn, void*) { return BRAID_ECLOSED; }

void elem_mode(Input& in) {
    size_t size = in.size_edge(64), align = fuzz_align(in);
    bool ok = elem_ok(size, align);
    int want = ok ? BRAID_OK : BRAID_EINVAL;
    uint8_t seed = in.u8();
    // Values only for element types that are accepted (the sizes of the
    // others may be anything).
    std::unique_ptr<Buf> v, out;
    if (ok) {
        v = std::make_unique<Buf>(size, align, seed);
        out = std::make_unique<Buf>(size, align, 0);
    }
    switch (in.below(4)) {
        case 0: {
            braid_oneshot_tx* tx = nullptr;
            braid_oneshot_rx* rx = nullptr;
            FUZZ_CHECK(braid_oneshot_new(&tx, &rx, size, align, nullptr, nullptr) == want);
            if (!ok) return;
            FUZZ_CHECK(braid_oneshot_send(tx, v->p, size) == BRAID_OK);
            FUZZ_CHECK(braid_oneshot_try_recv(rx, out->p, size) == BRAID_OK && out->same(*v));
            braid_oneshot_rx_free(rx);
            break;
        }
        case 1: {
            alignas(64) static unsigned char refused[64];
            std::unique_ptr<Buf> init = ok ? std::make_unique<Buf>(size, align, 3) : nullptr;
            braid_watch_tx* tx = nullptr;
            braid_watch_rx* rx = nullptr;
            FUZZ_CHECK(braid_watch_new(&tx, &rx, ok ? init->p : refused, size, align, nullptr, nullptr) == want);
            if (!ok) return;
            FUZZ_CHECK(braid_watch_send(tx, v->p, size) == BRAID_OK);
            const void* p = nullptr;
            FUZZ_CHECK(braid_watch_rx_borrow(rx, 1, &p, nullptr) == BRAID_OK);
            FUZZ_CHECK(size == 0 || std::memcmp(p, v->p, size) == 0);
            braid_watch_rx_borrow_end(rx);
            braid_watch_rx_free(rx);
            braid_watch_tx_free(tx);
            break;
        }
        case 2: {
            braid_once_cell* cell = nullptr;
            FUZZ_CHECK(braid_once_cell_new(&cell, size, align, nullptr, nullptr) == want);
            if (!ok) return;
            FUZZ_CHECK(braid_once_cell_set(cell, v->p, size) == BRAID_OK);
            void* p = nullptr;
            FUZZ_CHECK(braid_once_cell_get(cell, &p) == BRAID_OK && p != nullptr);
            FUZZ_CHECK(reinterpret_cast<uintptr_t>(p) % align == 0);
            FUZZ_CHECK(size == 0 || std::memcmp(p, v->p, size) == 0);
            braid_once_cell_free(cell);
            break;
        }
        default: {
            braid_stream* s = nullptr;
            FUZZ_CHECK(braid_stream_new(&s, size, align, nullptr, nullptr, &never_ready, nullptr, nullptr) == want);
            if (!ok) return;
            FUZZ_CHECK(braid_stream_elem_size(s) == size);
            braid_stream_free(s);
            break;
        }
    }
}

int done_poll(void*, braid_task*) { return BRAID_OK; }

braid_runtime* c_runtime() {
    static braid_runtime* rt = [] {
        braid_runtime* r = nullptr;
        braid_runtime_builder* b = nullptr;
        FUZZ_CHECK(braid_runtime_builder_new(&b) == BRAID_OK);
        FUZZ_CHECK(braid_runtime_builder_current_thread(b) == BRAID_OK);
        FUZZ_CHECK(braid_runtime_build(&r, b) == BRAID_OK);
        braid_runtime_builder_free(b);
        return r;
    }();
    return rt;
}

void task_mode(Input& in) {
    size_t size = in.size_edge(4096);
    // Up to 1 GiB is accepted and zero-filled: keep what is made small.
    if (size <= (size_t(1) << 30) && size > (size_t(1) << 20)) size %= size_t(1) << 20;
    braid_task* t = nullptr;
    void* state = nullptr;
    int rc = braid_task_new(&t, &state, c_runtime(), size, &done_poll, nullptr, nullptr);
    if (size > (size_t(1) << 30)) {
        FUZZ_CHECK(rc == BRAID_EINVAL && t == nullptr && state == nullptr, "braid_task_new(%zu): %d", size, rc);
        return;
    }
    FUZZ_CHECK(rc == BRAID_OK && state != nullptr && reinterpret_cast<uintptr_t>(state) % 16 == 0);
    for (size_t i = 0; i < size; i += 4096) FUZZ_CHECK(static_cast<unsigned char*>(state)[i] == 0);
    if (size) static_cast<unsigned char*>(state)[size - 1] = 1;
    braid_task_free(t);
}

void counts_mode(Input& in) {
    size_t n = in.size_edge(8);
    braid_semaphore* sem = nullptr;
    int rc = braid_semaphore_new(&sem, n);
    FUZZ_CHECK(rc == (uint64_t(n) <= kMaxPermits ? BRAID_OK : BRAID_ERANGE));
    if (sem) {
        FUZZ_CHECK(braid_semaphore_available_permits(sem) == n);
        FUZZ_CHECK(braid_semaphore_release(sem, 1) == (uint64_t(n) < kMaxPermits ? BRAID_OK : BRAID_ERANGE));
        braid_semaphore_free(sem);
    }
    braid_barrier* b = nullptr;
    FUZZ_CHECK(braid_barrier_new(&b, n) == BRAID_OK);
    braid_barrier_free(b);
}

void builder_mode(Input& in) {
    static constexpr int64_t kDurations[] = {-1, INT64_MIN, 0, 1, 1000, 1000000000000, 1000000000001,
                                             INT64_MAX / 1000000, INT64_MAX / 1000000 + 1, INT64_MAX};
    int64_t slow = in.flag() ? kDurations[in.below(10)] : int64_t(in.u64());
    int64_t keep = in.flag() ? kDurations[in.below(10)] : int64_t(in.u64());
    auto want = [](int64_t ms) { return ms < 0 ? BRAID_EINVAL : ms > 1000000000000 ? BRAID_ERANGE : BRAID_OK; };
    braid_runtime_builder* b = nullptr;
    FUZZ_CHECK(braid_runtime_builder_new(&b) == BRAID_OK);
    int rs = braid_runtime_builder_slow_poll_ms(b, slow);
    int rk = braid_runtime_builder_blocking_keep_alive_ms(b, keep);
    FUZZ_CHECK(rs == want(slow) && rk == want(keep), "slow %lld: %d, keep-alive %lld: %d", (long long)slow, rs,
               (long long)keep, rk);
    if (in.u8() % 4 == 0) {
        // Use the accepted durations: polls measured against them, a
        // blocking thread waiting for the keep-alive until shutdown.
        braid_runtime* rt = nullptr;
        FUZZ_CHECK(braid_runtime_builder_current_thread(b) == BRAID_OK);
        FUZZ_CHECK(braid_runtime_build(&rt, b) == BRAID_OK);
        braid_task* job = nullptr;
        FUZZ_CHECK(braid_spawn_blocking(&job, rt, [](void*) {}, nullptr) == BRAID_OK);
        FUZZ_CHECK(braid_task_join_blocking(job, BRAID_WAIT_FOREVER) == BRAID_OK);
        braid_task_free(job);
        braid_task* t = nullptr;
        void* state = nullptr;
        FUZZ_CHECK(braid_task_new(&t, &state, rt, 8, &done_poll, nullptr, nullptr) == BRAID_OK);
        FUZZ_CHECK(braid_task_start(t) == BRAID_OK);
        FUZZ_CHECK(braid_runtime_block_on(rt, t) == BRAID_OK);
        braid_task_free(t);
        FUZZ_CHECK(braid_runtime_free(rt) == BRAID_OK);
    }
    braid_runtime_builder_free(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    Input in(data, size);
    switch (in.u8() % 8) {
        case 0: alloc_mode(in); break;
        case 1: mpsc_mode(in, true); break;
        case 2: mpsc_mode(in, false); break;
        case 3: broadcast_mode(in); break;
        case 4: elem_mode(in); break;
        case 5: task_mode(in); break;
        case 6: counts_mode(in); break;
        default: builder_mode(in); break;
    }
    return 0;
}
