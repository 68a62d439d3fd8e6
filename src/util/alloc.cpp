#include "util/alloc.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "util/spin_lock.hpp"

// Small blocks (up to 512 bytes, in 16-byte classes; above 128 bytes in
// whole 64-byte cache lines, aligned to one) come from slabs carved
// without per-block headers, through per-thread caches.  A thread that frees
// more than it allocates (a worker finishing tasks another thread spawned)
// hands whole batches back to a global pool, where the allocating thread
// picks them up: one lock per kBatch blocks, never one per block.
//
// Memory goes back to the system after a burst: when the free blocks of a
// class in the pool reach a threshold, a sweep counts them per slab (a slab
// is aligned to its size, so a block finds its slab's header by masking its
// address) and returns the slabs whose every block is free there, but for as
// many blocks as the class handed out since the last sweep (a class that
// allocates while it frees keeps what it reuses): up to kReserveSlabs of
// them wait, empty, for whichever class needs a slab next; the others are
// unmapped.  The next sweep comes when the pool has grown by
// half of what this one left (and by at least kSweepSlabs slabs' worth), so
// sweeping costs O(1) per freed block, and a steady churn that stays below
// the threshold never sweeps.
namespace braid::detail {
namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kClasses = 33;  // class c holds blocks of c * 16 bytes, 1..32
constexpr std::size_t kMaxCached = kClasses - 1;
constexpr std::size_t kBatch = 64;
constexpr std::size_t kSlabBytes = 64 * 1024;
constexpr std::size_t kSlabHeader = 64;
constexpr std::size_t kChunkSlabs = 16;   // slabs mapped at once
constexpr std::size_t kReserveSlabs = 4;  // empty slabs kept for reuse (all classes)
constexpr std::size_t kSweepSlabs = 2;    // the least growth of a class's pool (in slabs) between sweeps

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

// The header at the start of a slab.
struct Slab {
    uint32_t carved = 0;   // blocks carved from it (final once its class carves from another slab)
    uint32_t seen = 0;     // during a sweep: its free blocks counted, or a verdict
    uint64_t sweep = 0;    // the sweep that `seen` belongs to
    Slab* next = nullptr;  // on a sweep's release list
};
static_assert(sizeof(Slab) <= kSlabHeader);

// A sweep's verdicts on a slab whose every block is free: it goes, or it stays.
constexpr uint32_t kEmpty = UINT32_MAX;
constexpr uint32_t kKept = UINT32_MAX - 1;

inline Slab* slab_of(void* p) {
    return reinterpret_cast<Slab*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t(kSlabBytes - 1));
}

// Bytes of the slabs that blocks are carved from, and of the empty ones kept
// for reuse (mapped chunks not handed out yet are not counted: their pages
// were never touched).
std::atomic<std::size_t> g_slab_bytes{0};

// Slabs from the system, aligned to their size: empty ones given back first
// (up to kReserveSlabs wait here), else kChunkSlabs mapped at a time.
class SlabSource {
public:
    Slab* get() {
        std::lock_guard<SpinLock> g(lock_);
        if (Slab* s = reserve_) {
            reserve_ = s->next;
            --reserved_;
            return new (s) Slab;
        }
        if (next_ == end_) {
            std::size_t bytes = kChunkSlabs * kSlabBytes;
            void* m = mmap(nullptr, bytes + kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) return nullptr;
            uintptr_t a = reinterpret_cast<uintptr_t>(m);
            uintptr_t start = (a + kSlabBytes - 1) & ~uintptr_t(kSlabBytes - 1);
            if (start > a) munmap(m, start - a);
            if (a + kSlabBytes > start) munmap(reinterpret_cast<void*>(start + bytes), a + kSlabBytes - start);
            next_ = reinterpret_cast<char*>(start);
            end_ = next_ + bytes;
        }
        void* s = next_;
        next_ += kSlabBytes;
        g_slab_bytes.fetch_add(kSlabBytes, std::memory_order_relaxed);
        return new (s) Slab;
    }

    // Takes back empty slabs (a list through Slab::next): the reserve is
    // filled up, the rest unmapped, one call per run of adjacent slabs.
    void put(Slab* list) {
        {
            std::lock_guard<SpinLock> g(lock_);
            while (list && reserved_ < kReserveSlabs) {
                Slab* s = list;
                list = s->next;
                s->next = reserve_;
                reserve_ = s;
                ++reserved_;
            }
        }
        // A sweep lists them in the order it met their blocks, which is
        // mostly the order they were carved in: runs of neighbours.
        std::size_t n = 0;
        uintptr_t lo = 0, hi = 0;
        for (Slab* s = list; s;) {
            Slab* next = s->next;
            uintptr_t a = reinterpret_cast<uintptr_t>(s);
            if (a == hi) {
                hi += kSlabBytes;
            } else if (a + kSlabBytes == lo) {
                lo = a;
            } else {
                if (hi) munmap(reinterpret_cast<void*>(lo), hi - lo);
                lo = a;
                hi = a + kSlabBytes;
            }
            ++n;
            s = next;
        }
        if (hi) munmap(reinterpret_cast<void*>(lo), hi - lo);
        g_slab_bytes.fetch_sub(n * kSlabBytes, std::memory_order_relaxed);
    }

private:
    SpinLock lock_;
    Slab* reserve_ = nullptr;
    std::size_t reserved_ = 0;
    char* next_ = nullptr;
    char* end_ = nullptr;
};

SlabSource& slab_source() {
    static SlabSource* s = new SlabSource;  // never destroyed, as the pool
    return *s;
}

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
            k.free -= b.count;
            k.taken += b.count;
            return b;
        }
        Batch b = carve(k, c * kGranule);
        k.taken += b.count;
        return b;
    }
    void give(std::size_t c, Batch b) {
        Class& k = classes_[c];
        std::unique_lock<SpinLock> lk(k.lock);
        k.batches.push_back(b);
        k.free += b.count;
        if (k.free < k.sweep_at || k.sweeping) return;
        sweep(k, c * kGranule, lk);
    }

private:
    struct Class {
        SpinLock lock;
        std::vector<Batch> batches;
        std::size_t free = 0;   // blocks in batches
        std::size_t taken = 0;  // blocks handed out since the last sweep (the demand a sweep keeps for)
        std::size_t sweep_at = 0;
        uint64_t sweeps = 0;
        bool sweeping = false;
        Slab* slab = nullptr;  // the slab being carved
        char* cur = nullptr;
        char* end = nullptr;
    };

    static std::size_t per_slab(std::size_t size) { return (kSlabBytes - kSlabHeader) / size; }

    // Carves up to kBatch blocks of `size` bytes (lock held).
    Batch carve(Class& k, std::size_t size) {
        if (k.sweep_at == 0) k.sweep_at = k.free + kSweepSlabs * per_slab(size);
        Batch b;
        for (std::size_t i = 0; i < kBatch; ++i) {
            if (k.cur + size > k.end) {
                k.slab = slab_source().get();
                if (!k.slab) {
                    k.cur = k.end = nullptr;
                    break;
                }
                k.cur = reinterpret_cast<char*>(k.slab) + kSlabHeader;
                k.end = reinterpret_cast<char*>(k.slab) + kSlabBytes;
            }
            auto* f = reinterpret_cast<FreeBlock*>(k.cur);
            k.cur += size;
            ++k.slab->carved;
            f->next = b.head;
            b.head = f;
            ++b.count;
        }
        return b;
    }

    // Takes the class's free blocks out (lock held through lk), finds the
    // slabs they fill entirely and gives those back to the slab source, and
    // puts the other blocks back.  The counting runs without the lock: the
    // blocks are this sweep's alone then, every slab but the one being
    // carved has its final `carved`, and one sweep per class runs at a time.
    void sweep(Class& k, std::size_t size, std::unique_lock<SpinLock>& lk) {
        k.sweeping = true;
        std::vector<Batch> taken;
        taken.swap(k.batches);
        k.free = 0;
        Slab* carving = k.slab;
        uint64_t id = ++k.sweeps;
        std::size_t demand = std::exchange(k.taken, 0);
        lk.unlock();

        // One walk down the chains (cold memory: each block a cache miss),
        // then the verdicts from an array.
        std::vector<FreeBlock*> blocks;
        std::vector<Batch> kept;
        std::size_t total = 0;
        for (const Batch& b : taken) total += b.count;
        try {
            blocks.reserve(total);
            kept.reserve(total / kBatch + 1);
        } catch (const std::bad_alloc&) {  // no room to sort them: they go back as they were
            lk.lock();
            for (const Batch& b : taken) k.batches.push_back(b);
            k.free += total;
            k.sweeping = false;
            return;
        }
        for (const Batch& b : taken)
            for (FreeBlock* f = b.head; f; f = f->next) {
                blocks.push_back(f);
                Slab* s = slab_of(f);
                if (s == carving) continue;
                if (s->sweep != id) {
                    s->sweep = id;
                    s->seen = 0;
                }
                ++s->seen;
            }
        Batch out;
        std::size_t survivors = 0, kept_empty = 0;
        Slab* empty = nullptr;
        for (FreeBlock* f : blocks) {
            Slab* s = slab_of(f);
            if (s != carving && s->seen == s->carved) {  // the first of its blocks: the slab is empty
                if (kept_empty < demand) {  // blocks went out since the last sweep: as many stay
                    kept_empty += s->carved;
                    s->seen = kKept;
                } else {
                    s->seen = kEmpty;
                    s->next = empty;
                    empty = s;
                }
            }
            if (s != carving && s->seen == kEmpty) continue;
            f->next = out.head;
            out.head = f;
            ++survivors;
            if (++out.count == kBatch) {
                kept.push_back(out);
                out = Batch{};
            }
        }
        if (out.count) kept.push_back(out);

        lk.lock();
        for (const Batch& b : kept) k.batches.push_back(b);
        k.free += survivors;
        k.sweep_at = k.free + std::max(kSweepSlabs * per_slab(size), survivors / 2);
        k.sweeping = false;
        lk.unlock();
        if (empty) slab_source().put(empty);
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

// This thread's cache, made on first use (alloc_uncached, dealloc_uncached);
// null after thread exit.
[[gnu::noinline]] ThreadCache* make_cache() {
    if (tl_cache_gone) return nullptr;
    thread_local ThreadCache cache;
    tl_cache_ptr = &cache;
    return &cache;
}

// Blocks above kLineFrom bytes (task blocks: header, spawn state and frame)
// take whole cache lines: their size is rounded up to a multiple of kLine,
// so they start on a line (a slab's blocks sit at multiples of their size
// after its 64-byte header) and never share one with a neighbour.  A task
// polled on one worker would otherwise share its first line with the last
// line of the task before it in the slab, polled on another worker, and
// every poll of either would take the line from the other core
// (yield_many at 2 workers: 31 M/s with shared lines, 41 M/s without).
constexpr std::size_t kLine = 64;
constexpr std::size_t kLineFrom = 128;
static_assert(kSlabHeader % kLine == 0);

inline std::size_t block_bytes(std::size_t size) {
    if (size == 0) return kGranule;
    if (size > kLineFrom) return (size + kLine - 1) / kLine * kLine;
    return (size + kGranule - 1) / kGranule * kGranule;
}
inline std::size_t size_class(std::size_t size) { return block_bytes(size) / kGranule; }
constexpr std::size_t kMaxAlloc = PTRDIFF_MAX;

// The slow paths of alloc and dealloc are out of line (noinline) so that
// their fast paths, a pop or a push on the thread's list, need no stack
// frame.

// The first block of a list that has one.
inline void* pop_free(Batch& l) noexcept {
    FreeBlock* b = l.head;
    l.head = b->next;
    --l.count;
    return b;
}
// An empty list: a batch from the pool, and its first block.
[[gnu::noinline]] void* refill_and_take(Batch& l, std::size_t c) noexcept {
    l = pool().take(c);
    return l.head ? pop_free(l) : nullptr;
}
// A block of class c from the thread's list of that class.
inline void* take_cached(Batch& l, std::size_t c) noexcept {
    if (!l.head) [[unlikely]] return refill_and_take(l, c);
    return pop_free(l);
}
// alloc without the thread's cache at hand: a block above the cached sizes
// (from the system), or a thread that has no cache yet (made here) or no
// longer (its exit destroyed it).  A block of a cached size always comes
// from a slab, even then: whichever thread frees it hands it to a cache or
// the pool, whose sweep finds a block's slab header by masking its address.
[[gnu::noinline]] void* alloc_uncached(std::size_t size, std::size_t c) noexcept {
    if (!kCache || c > kMaxCached) return std::aligned_alloc(size > kLineFrom ? kLine : kGranule, c * kGranule);
    if (ThreadCache* tc = make_cache()) return take_cached(tc->lists[c], c);
    Batch b = pool().take(c);  // a batch for one block: the rest goes back
    if (!b.head) return nullptr;
    void* p = pop_free(b);
    if (b.count) pool().give(c, b);
    return p;
}
// A list of 2 * kBatch blocks: kBatch of them go back to the pool; the rest
// stay for reuse here.
[[gnu::noinline]] void give_back_batch(Batch& l, std::size_t c) noexcept {
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
// A freed block onto the thread's list of its class.
inline void push_free(Batch& l, FreeBlock* b, std::size_t c) noexcept {
    b->next = l.head;
    l.head = b;
    if (++l.count >= 2 * kBatch) [[unlikely]] give_back_batch(l, c);
}
// dealloc without the thread's cache at hand: a block above the cached
// sizes, or a thread that has no cache yet (made here) or no longer (after
// its exit the block goes to the pool alone).
[[gnu::noinline]] void dealloc_uncached(void* p, std::size_t c) noexcept {
    if (!kCache || c > kMaxCached) {
        std::free(p);
        return;
    }
    auto* b = static_cast<FreeBlock*>(p);
    if (ThreadCache* tc = make_cache()) {
        push_free(tc->lists[c], b, c);
        return;
    }
    b->next = nullptr;
    pool().give(c, Batch{b, 1});
}

}  // namespace

void* alloc(std::size_t size) noexcept {
    // Beyond this the size class computation overflows, and no allocator
    // could give it anyway (half the address space).
    if (size > kMaxAlloc) return nullptr;
    std::size_t c = size_class(size);
    ThreadCache* tc = kCache && c <= kMaxCached ? tl_cache_ptr : nullptr;
    if (!tc) [[unlikely]] return alloc_uncached(size, c);
    return take_cached(tc->lists[c], c);
}

void dealloc(void* p, std::size_t size) noexcept {
    if (!p) return;
    std::size_t c = size_class(size);
    ThreadCache* tc = kCache && c <= kMaxCached ? tl_cache_ptr : nullptr;
    if (!tc) [[unlikely]] return dealloc_uncached(p, c);
    push_free(tc->lists[c], static_cast<FreeBlock*>(p), c);
}

std::size_t slab_bytes() noexcept { return g_slab_bytes.load(std::memory_order_relaxed); }

}  // namespace braid::detail
