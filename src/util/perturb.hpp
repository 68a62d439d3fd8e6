// Schedule perturbation: a build option (cmake -DBRAID_PERTURB=ON) that
// shakes the runtime's synchronisation so that races show up in stress
// tests in seconds instead of once a week in production.  loom's idea
// without loom: loom explores every interleaving of a small model; this
// runs the real code and makes the rare interleavings and reorderings
// common.
//
// In a perturbed build every operation on a perturb::Atomic (the task state
// word, the run queues, the inject queue, the idle-worker bookkeeping, the
// parker, every SpinLock and so the wait lists and channels) first passes a
// perturbation point, which at random yields the CPU, spins for a few
// microseconds or sleeps briefly.  Inside a perturb::Region (the
// scheduler's wake, notify and park paths) stores are also buffered the way
// a CPU's store buffer does (x86's TSO, the strongest model braid runs on):
// a plain or release store becomes visible to other threads later, in
// order, while the storing thread reads its own value at once; a
// read-modify-write, a seq_cst operation or fence, leaving the outermost
// region, or a random later point makes them visible.  A protocol that
// relies on store->load ordering without a seq_cst fence (Dekker's pattern:
// "publish work, then check for sleepers" against "announce sleep, then
// check for work") then loses its wake-ups in a test, as it would on real
// hardware, only far more often.
//
// Regions keep the store buffer where every synchronisation is through
// perturb::Atomic: buffered stores never cross an unwrapped mutex or atomic.
//
// In normal builds all of this compiles to std::atomic and nothing else.
// Knobs (environment, perturbed builds only): BRAID_PERTURB_SEED (a number;
// default: from the clock, printed once to stderr so a failure can be
// replayed as closely as threads allow).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace braid::detail::perturb {

#if defined(BRAID_PERTURB) && BRAID_PERTURB

inline constexpr bool kEnabled = true;

// A perturbation point: maybe yield, spin or sleep; maybe publish buffered
// stores.
void point() noexcept;
// Publishes this thread's buffered stores (oldest first).
void drain() noexcept;
void fence(std::memory_order order) noexcept;

// Stores made inside a region may be buffered; the outermost region's end
// publishes them.
class Region {
public:
    Region() noexcept;
    ~Region();
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
};

namespace impl {
using ApplyFn = void (*)(void* target, uint64_t bits);
// Buffers a store when this thread is inside a region; false when the
// caller must store directly.
bool buffer_store(void* target, uint64_t bits, ApplyFn apply) noexcept;
// The newest buffered value for target, if this thread has one.
bool forward(const void* target, uint64_t* bits) noexcept;
}  // namespace impl

template <class T>
class Atomic {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(uint64_t),
                  "perturb::Atomic holds words only");

public:
    Atomic() noexcept = default;
    constexpr Atomic(T v) noexcept : a_(v) {}
    Atomic(const Atomic&) = delete;
    Atomic& operator=(const Atomic&) = delete;

    T load(std::memory_order o = std::memory_order_seq_cst) const noexcept {
        point();
        if (o == std::memory_order_seq_cst) drain();
        uint64_t bits;
        if (impl::forward(&a_, &bits)) return from_bits(bits);
        return a_.load(o);
    }
    void store(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        point();
        if (o != std::memory_order_seq_cst && impl::buffer_store(&a_, to_bits(v), &apply)) return;
        drain();
        a_.store(v, o);
    }
    T exchange(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        rmw();
        return a_.exchange(v, o);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order o = std::memory_order_seq_cst) noexcept {
        rmw();
        return a_.compare_exchange_weak(expected, desired, o);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order s, std::memory_order f) noexcept {
        rmw();
        return a_.compare_exchange_weak(expected, desired, s, f);
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order o = std::memory_order_seq_cst) noexcept {
        rmw();
        return a_.compare_exchange_strong(expected, desired, o);
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order s, std::memory_order f) noexcept {
        rmw();
        return a_.compare_exchange_strong(expected, desired, s, f);
    }
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    T fetch_add(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        rmw();
        return a_.fetch_add(v, o);
    }
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    T fetch_sub(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        rmw();
        return a_.fetch_sub(v, o);
    }
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    T fetch_and(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        rmw();
        return a_.fetch_and(v, o);
    }
    template <class U = T, class = std::enable_if_t<std::is_integral_v<U>>>
    T fetch_or(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        rmw();
        return a_.fetch_or(v, o);
    }

private:
    static uint64_t to_bits(T v) noexcept {
        uint64_t b = 0;
        std::memcpy(&b, &v, sizeof v);
        return b;
    }
    static T from_bits(uint64_t b) noexcept {
        T v;
        std::memcpy(&v, &b, sizeof v);
        return v;
    }
    static void apply(void* target, uint64_t bits) noexcept {
        static_cast<std::atomic<T>*>(target)->store(from_bits(bits), std::memory_order_release);
    }
    // A read-modify-write publishes everything before it (a locked
    // instruction drains the store buffer).
    static void rmw() noexcept {
        point();
        drain();
    }

    std::atomic<T> a_;
};

#else

inline constexpr bool kEnabled = false;

inline void point() noexcept {}
inline void drain() noexcept {}
inline void fence(std::memory_order order) noexcept { std::atomic_thread_fence(order); }

class Region {
public:
    Region() noexcept {}
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
};

template <class T>
using Atomic = std::atomic<T>;

#endif

}  // namespace braid::detail::perturb
