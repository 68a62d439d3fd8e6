// Shared helpers of the libFuzzer harnesses (tests/fuzz/fuzz_*.cpp):
//  - Input: reads the fuzzer's bytes as numbers, choices and byte strings
//    (running out of bytes gives zeros, never an error);
//  - FUZZ_CHECK(cond, ...): a broken contract prints what and where, then
//    aborts, which libFuzzer records as a crash (the input is saved);
//  - CountingWaker: a braid_wake_fn that counts its calls;
//  - fuzz_runtime(): one current-thread runtime for the whole process, for
//    harnesses that drive C++ coroutines (block_on per input).
// Harnesses never touch the file system, processes or signals.
#pragma once

#include <braid/braid.hpp>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace braid_fuzz {

[[noreturn]] inline void check_failed(const char* cond, const char* file, int line, const std::string& what) {
    std::fprintf(stderr, "FUZZ_CHECK failed: %s\n  at %s:%d\n  %s\n", cond, file, line, what.c_str());
    std::fflush(stderr);
    std::abort();
}

// FUZZ_CHECK(cond) or FUZZ_CHECK(cond, "format", args...).
inline std::string describe() { return std::string(); }
__attribute__((format(printf, 1, 2))) inline std::string describe(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}
#define FUZZ_CHECK(cond, ...) \
    ((cond) ? void() : ::braid_fuzz::check_failed(#cond, __FILE__, __LINE__, ::braid_fuzz::describe(__VA_ARGS__)))

class Input {
public:
    Input(const uint8_t* data, std::size_t size) : p_(data), left_(size) {}
    std::size_t left() const { return left_; }
    bool empty() const { return left_ == 0; }

    uint8_t u8() {
        if (!left_) return 0;
        --left_;
        return *p_++;
    }
    uint16_t u16() { return uint16_t(u8() | (u8() << 8)); }
    uint32_t u32() { return uint32_t(u16()) | (uint32_t(u16()) << 16); }
    uint64_t u64() { return uint64_t(u32()) | (uint64_t(u32()) << 32); }
    bool flag() { return u8() & 1; }
    // A number in [0, n) (n > 0).
    std::size_t below(std::size_t n) { return n <= 256 ? u8() % n : (n <= 65536 ? u16() % n : std::size_t(u64() % n)); }
    // A number in [lo, hi].
    std::size_t range(std::size_t lo, std::size_t hi) { return lo + below(hi - lo + 1); }
    // Up to n bytes (fewer when the input runs out).
    std::string_view bytes(std::size_t n) {
        if (n > left_) n = left_;
        std::string_view v(reinterpret_cast<const char*>(p_), n);
        p_ += n;
        left_ -= n;
        return v;
    }
    std::string_view rest() { return bytes(left_); }
    // A size that is usually small, sometimes at the edges of size_t.
    std::size_t size_edge(std::size_t small_max) {
        static constexpr std::size_t kEdges[] = {0, 1, 2, 3, 7, 8, 15, 16, 17, 255, 256, 4095, 4096, 4097,
                                                 (1u << 20) - 1, 1u << 20, (1u << 20) + 1, std::size_t(1) << 30,
                                                 (std::size_t(1) << 30) + 1, std::size_t(1) << 32,
                                                 std::size_t(1) << 40, (std::size_t(1) << 61) - 1,
                                                 std::size_t(1) << 61, SIZE_MAX / 2, SIZE_MAX / 2 + 1,
                                                 SIZE_MAX - 16, SIZE_MAX - 15, SIZE_MAX - 1, SIZE_MAX};
        switch (u8() % 4) {
            case 0: return kEdges[below(sizeof kEdges / sizeof kEdges[0])];
            case 1: return std::size_t(u64());
            default: return below(small_max + 1);
        }
    }

private:
    const uint8_t* p_;
    std::size_t left_;
};

struct CountingWaker {
    int calls = 0;
    static void wake(void* self) { ++static_cast<CountingWaker*>(self)->calls; }
};

// One current-thread runtime per process: coroutine harnesses block_on it
// once per input.
inline braid::Runtime& fuzz_runtime() {
    static braid::Runtime* rt = new braid::Runtime(braid::Runtime::builder().current_thread().build());
    return *rt;
}

// The code of the braid::Error that `body` throws, 0 when none.
template <class F>
int error_code_of(F&& body) {
    try {
        body();
    } catch (const braid::Error& e) {
        return e.code();
    }
    return 0;
}

}  // namespace braid_fuzz
