// Schedule perturbation (see perturb.hpp): random yields, spins and short
// sleeps at every perturbation point, and a per-thread store buffer inside
// regions.  Compiled to nothing unless BRAID_PERTURB is set.
#include "util/perturb.hpp"

#if defined(BRAID_PERTURB) && BRAID_PERTURB

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace braid::detail::perturb {
namespace {

uint64_t global_seed() {
    static const uint64_t seed = [] {
        uint64_t s;
        if (const char* env = std::getenv("BRAID_PERTURB_SEED")) {
            s = std::strtoull(env, nullptr, 0);
        } else {
            s = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
        }
        std::fprintf(stderr, "braid: schedule perturbation on, BRAID_PERTURB_SEED=%llu\n",
                     static_cast<unsigned long long>(s));
        return s;
    }();
    return seed;
}

std::atomic<uint64_t> g_thread_counter{0};

struct Entry {
    void* target;
    uint64_t bits;
    impl::ApplyFn apply;
};

struct ThreadState {
    uint64_t rng;
    int depth = 0;      // regions entered
    bool busy = false;  // inside point(): no recursion through the atomics it uses
    int len = 0;
    Entry buf[8];       // oldest first

    ThreadState() {
        uint64_t n = g_thread_counter.fetch_add(1, std::memory_order_relaxed) + 1;
        rng = (global_seed() ^ (n * 0x9E3779B97F4A7C15ull)) | 1;
    }
    ~ThreadState() { flush_all(); }

    uint64_t next() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
    }
    void flush_oldest() {
        if (len == 0) return;
        Entry e = buf[0];
        for (int i = 1; i < len; ++i) buf[i - 1] = buf[i];
        --len;
        e.apply(e.target, e.bits);
    }
    void flush_all() {
        while (len > 0) flush_oldest();
    }
};

ThreadState& state() {
    thread_local ThreadState s;
    return s;
}

void spin_for(uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; ++i) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#else
        std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
    }
}

}  // namespace

void point() noexcept {
    ThreadState& s = state();
    if (s.busy) return;
    s.busy = true;
    uint64_t r = s.next();
    // Publish a buffered store now and then (a store buffer drains by
    // itself, in order, within a short while).
    if (s.len > 0 && (r & 3) == 0) s.flush_oldest();
    switch ((r >> 8) % 64) {
        case 0:
        case 1:
            std::this_thread::yield();
            break;
        case 2:
            spin_for((r >> 20) % 4096);  // up to a few microseconds
            break;
        case 3:
            if (((r >> 32) % 16) == 0) {
                timespec ts{0, long((r >> 40) % 50000)};  // up to 50 us: the thread is descheduled
                nanosleep(&ts, nullptr);
            }
            break;
        default:
            break;
    }
    s.busy = false;
}

void drain() noexcept { state().flush_all(); }

void fence(std::memory_order order) noexcept {
    point();
    if (order == std::memory_order_seq_cst) drain();
    std::atomic_thread_fence(order);
}

Region::Region() noexcept { ++state().depth; }

Region::~Region() {
    ThreadState& s = state();
    if (--s.depth == 0) s.flush_all();
}

namespace impl {

bool buffer_store(void* target, uint64_t bits, ApplyFn apply) noexcept {
    ThreadState& s = state();
    if (s.depth == 0) return false;
    if (s.len == int(sizeof s.buf / sizeof s.buf[0])) s.flush_oldest();
    s.buf[s.len++] = Entry{target, bits, apply};
    return true;
}

bool forward(const void* target, uint64_t* bits) noexcept {
    ThreadState& s = state();
    for (int i = s.len - 1; i >= 0; --i) {
        if (s.buf[i].target == target) {
            *bits = s.buf[i].bits;
            return true;
        }
    }
    return false;
}

}  // namespace impl
}  // namespace braid::detail::perturb

#endif
