// Shared test helpers: a type that counts its constructions and
// destructions, and runtimes built the way the tests need them.
#pragma once

#include <braid/braid.hpp>

#include <atomic>

namespace braid_test {

// Sanitizer builds run 5-20x slower: stress tests run the same code on fewer
// items there (n / kStressDivisor).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr int kStressDivisor = 10;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr int kStressDivisor = 10;
#else
inline constexpr int kStressDivisor = 1;
#endif
#else
inline constexpr int kStressDivisor = 1;
#endif

// Counts live instances; every test that moves things through tasks checks
// that what was constructed was destroyed.
struct Tracked {
    static inline std::atomic<long> constructed{0};
    static inline std::atomic<long> destroyed{0};
    int value = 0;
    explicit Tracked(int v = 0) : value(v) { ++constructed; }
    Tracked(const Tracked& o) : value(o.value) { ++constructed; }
    Tracked(Tracked&& o) noexcept : value(o.value) { ++constructed; }
    Tracked& operator=(const Tracked&) = default;
    Tracked& operator=(Tracked&&) = default;
    ~Tracked() { ++destroyed; }
    static long live() { return constructed.load() - destroyed.load(); }
};

inline braid::Runtime paused_runtime(int workers = 1) {
    return braid::Runtime::builder().worker_threads(workers).start_paused().build();
}

inline braid::Runtime runtime(int workers = 2) { return braid::Runtime::builder().worker_threads(workers).build(); }

}  // namespace braid_test
