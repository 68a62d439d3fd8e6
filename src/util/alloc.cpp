#include "util/alloc.hpp"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "util/spin_lock.hpp"

// Small blocks (up to 512 bytes, in 16-byte classes) come from slabs carved
// without per-block headers, through per-thread caches.  A thread that frees
// more than it allocates (a worker finishing tasks another thread spawned)
// hands whole batches back to a global pool, where the allocating thread
// picks them up: one lock per kBatch blocks, never one per block.
namespace braid::detail {
namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kClasses = 33;  // class c holds blocks of c * 16 bytes, 1..32
constexpr std::size_t kMaxCached = kClasses - 1;
constexpr std::size_t kBatch = 64;
constexpr std::size_t kSlabBytes = 256 * 1024;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kCache = false;  // let the sanitizers see every block
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

// A chain of blocks of one class.
struct Batch {
    FreeBlock* head = nullptr;
    std::size_t count = 0;
};

// The global pool: full batches per class, plus the slab being carved.
class Pool {
public:
    // A batch of blocks of class c (never empty: carves a slab if needed).
    Batch take(std::size_t c) {
        Class& k = classes_[c];
        std::lock_guard<SpinLock> g(k.lock);
        if (!k.batches.empty()) {
            Batch b = k.batches.back();
            k.batches.pop_back();
            return b;
        }
        return carve(k, c * kGranule);
    }
    void give(std::size_t c, Batch b) {
        Class& k = classes_[c];
        std::lock_guard<SpinLock> g(k.lock);
        k.batches.push_back(b);
    }

private:
    struct Class {
        SpinLock lock;
        std::vector<Batch> batches;
        char* cur = nullptr;
        char* end = nullptr;
    };
    // Carves up to kBatch blocks of `size` bytes (lock held).  Slabs live as
    // long as the process: their blocks circulate between caches and pool.
    Batch carve(Class& k, std::size_t size) {
        Batch b;
        for (std::size_t i = 0; i < kBatch; ++i) {
            if (k.cur + size > k.end) {
                k.cur = static_cast<char*>(std::aligned_alloc(kGranule, kSlabBytes));
                if (!k.cur) {
                    k.end = nullptr;
                    break;
                }
                k.end = k.cur + kSlabBytes;
            }
            auto* f = reinterpret_cast<FreeBlock*>(k.cur);
            k.cur += size;
            f->next = b.head;
            b.head = f;
            ++b.count;
        }
        return b;
    }
    Class classes_[kClasses];
};

Pool& pool() {
    static Pool* p = new Pool;  // never destroyed: thread caches flush into it at exit
    return *p;
}

struct ThreadCache;
// This thread's cache once it exists and until it is destroyed at thread
// exit; then null again, and tl_cache_gone says calls go to the pool
// directly.  Both are trivially destructible and initial-exec TLS, so the
// hot path is one %fs-relative load (the cache object itself has a
// destructor: a thread_local of that kind is reached through a wrapper and
// the dynamic loader).
constinit thread_local ThreadCache* tl_cache_ptr [[gnu::tls_model("initial-exec")]] = nullptr;
constinit thread_local bool tl_cache_gone [[gnu::tls_model("initial-exec")]] = false;

struct ThreadCache {
    Batch lists[kClasses];
    ~ThreadCache() {
        tl_cache_ptr = nullptr;
        tl_cache_gone = true;
        for (std::size_t c = 1; c <= kMaxCached; ++c)
            if (lists[c].count) pool().give(c, lists[c]);
    }
};

// This thread's cache, made on first use; null after thread exit.
[[gnu::noinline]] ThreadCache* make_cache() {
    if (tl_cache_gone) return nullptr;
    thread_local ThreadCache cache;
    tl_cache_ptr = &cache;
    return &cache;
}

inline ThreadCache* thread_cache() {
    ThreadCache* tc = tl_cache_ptr;
    return tc ? tc : make_cache();
}

inline std::size_t size_class(std::size_t size) { return size == 0 ? 1 : (size + kGranule - 1) / kGranule; }
constexpr std::size_t kMaxAlloc = PTRDIFF_MAX;

}  // namespace

void* alloc(std::size_t size) noexcept {
    // Beyond this the size class computation overflows, and no allocator
    // could give it anyway (half the address space).
    if (size > kMaxAlloc) return nullptr;
    std::size_t c = size_class(size);
    ThreadCache* tc = !kCache || c > kMaxCached ? nullptr : thread_cache();
    if (!tc) return std::aligned_alloc(kGranule, c * kGranule);
    Batch& l = tc->lists[c];
    if (!l.head) {
        l = pool().take(c);
        if (!l.head) return nullptr;
    }
    FreeBlock* b = l.head;
    l.head = b->next;
    --l.count;
    return b;
}

void dealloc(void* p, std::size_t size) noexcept {
    if (!p) return;
    std::size_t c = size_class(size);
    if (!kCache || c > kMaxCached) {
        std::free(p);
        return;
    }
    ThreadCache* tc = thread_cache();
    if (!tc) {
        auto* b = static_cast<FreeBlock*>(p);
        b->next = nullptr;
        pool().give(c, Batch{b, 1});
        return;
    }
    Batch& l = tc->lists[c];
    auto* b = static_cast<FreeBlock*>(p);
    b->next = l.head;
    l.head = b;
    if (++l.count >= 2 * kBatch) {
        // Hand kBatch blocks back to the pool; keep the rest for reuse here.
        Batch out;
        out.head = l.head;
        FreeBlock* last = l.head;
        for (std::size_t i = 1; i < kBatch; ++i) last = last->next;
        l.head = last->next;
        last->next = nullptr;
        out.count = kBatch;
        l.count -= kBatch;
        pool().give(c, out);
    }
}

}  // namespace braid::detail
