#include "util/alloc.hpp"

#include <cstdlib>

namespace braid::detail {
namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kClasses = 32;          // blocks up to 512 bytes are cached
constexpr std::size_t kMaxCachedPerClass = 4096;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kCache = false;                // let the sanitizers see every block
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kCache = false;
#else
constexpr bool kCache = true;
#endif
#else
constexpr bool kCache = true;
#endif

struct FreeBlock {
    FreeBlock* next;
};

struct ThreadCache {
    FreeBlock* head[kClasses] = {};
    std::size_t count[kClasses] = {};
    ~ThreadCache() {
        for (std::size_t c = 0; c < kClasses; ++c) {
            while (head[c]) {
                FreeBlock* b = head[c];
                head[c] = b->next;
                std::free(b);
            }
        }
    }
};

thread_local ThreadCache tl_cache;

inline std::size_t size_class(std::size_t size) { return (size + kGranule - 1) / kGranule; }

}  // namespace

void* alloc(std::size_t size) noexcept {
    std::size_t c = size_class(size);
    if (kCache && c < kClasses) {
        ThreadCache& tc = tl_cache;
        if (FreeBlock* b = tc.head[c]) {
            tc.head[c] = b->next;
            --tc.count[c];
            return b;
        }
        return std::aligned_alloc(kGranule, c * kGranule);
    }
    return std::aligned_alloc(kGranule, (c ? c : 1) * kGranule);
}

void dealloc(void* p, std::size_t size) noexcept {
    if (!p) return;
    std::size_t c = size_class(size);
    if (kCache && c < kClasses) {
        ThreadCache& tc = tl_cache;
        if (tc.count[c] < kMaxCachedPerClass) {
            auto* b = static_cast<FreeBlock*>(p);
            b->next = tc.head[c];
            tc.head[c] = b;
            ++tc.count[c];
            return;
        }
    }
    std::free(p);
}

}  // namespace braid::detail
