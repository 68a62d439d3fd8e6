// Memory goes back to the system after a burst: the small-object allocator
// unmaps the slabs a drained burst of tasks or queued messages left free, so
// the resident set falls back to within twice what it was before.
// Sanitizer builds take every block from malloc (the sanitizers see each
// one): no slabs there, braid_alloc_slab_bytes() stays 0.
#include <catch2/catch.hpp>

#include <braid/braid.hpp>
#include <braid/unstable/alloc.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_rt_memory_return {

namespace {

// The resident set of this process, in bytes (/proc/self/statm).
std::size_t rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    REQUIRE(f);
    unsigned long size = 0, resident = 0;
    int got = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    REQUIRE(got == 2);
    return resident * std::size_t(sysconf(_SC_PAGESIZE));
}

// Before a burst, its peak and after it: slab bytes and RSS.
struct Footprint {
    std::size_t slabs_before = braid_alloc_slab_bytes();
    std::size_t rss_before = rss_bytes();
    std::size_t slabs_peak = 0;
    void at_peak() { slabs_peak = braid_alloc_slab_bytes(); }
    // The burst held at least `burst` bytes in slabs, and the slabs and the
    // resident set are back within twice what they were.
    void check_returned(std::size_t burst) const {
        // Workers may still be finishing the last tasks, or sweeping the
        // blocks they freed, when the burst's end is seen here (a loaded
        // machine can preempt them for a while): look again, yielding, until
        // the bounds hold or a generous limit passes, then check them.
        auto within = [&](std::size_t slabs, std::size_t rss) {
            return slabs <= 2 * slabs_before + (std::size_t(8) << 20) && rss <= 2 * rss_before;
        };
        std::size_t slabs_after = braid_alloc_slab_bytes();
        std::size_t rss_after = rss_bytes();
        auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!braid_test::kSanitized && !within(slabs_after, rss_after) && std::chrono::steady_clock::now() < limit) {
            std::this_thread::yield();
            slabs_after = braid_alloc_slab_bytes();
            rss_after = rss_bytes();
        }
        INFO("slab bytes " << slabs_before << " -> " << slabs_peak << " -> " << slabs_after);
        INFO("RSS " << rss_before << " -> " << rss_after);
        if (braid_test::kSanitized) {
            REQUIRE(slabs_peak == 0);
            REQUIRE(slabs_after == 0);
            return;
        }
        REQUIRE(slabs_peak >= burst);  // (slabs of earlier bursts may have held some of it)
        // What stays: the reserve of empty slabs, and per size class the
        // slab being carved, those that blocks in thread caches or tasks
        // still ending keep, and the free blocks since the last sweep (a
        // few MiB in all, against hundreds at the peak).
        REQUIRE(slabs_after <= 2 * slabs_before + (std::size_t(8) << 20));
        REQUIRE(rss_after <= 2 * rss_before);
    }
};

// A thread_local made before the thread's first braid_alloc is destroyed
// after the allocator's per-thread cache: its destructor allocates `n`
// blocks of 64 bytes then, for another thread to free.
struct LateAllocs {
    std::vector<void*>* out = nullptr;
    std::size_t n = 0;
    ~LateAllocs() {
        for (std::size_t i = 0; i < n; ++i) out->push_back(braid_alloc(64));
    }
};

braid::Task<> hold(braid::Semaphore* gate, std::atomic<int>* left, braid::Notify* done) {
    (void)co_await gate->acquire();
    if (left->fetch_sub(1) == 1) done->notify_one();
}

}  // namespace

TEST_CASE("rt_memory_return.braid_alloc unmaps the slabs of a burst once its blocks are freed") {
    const std::size_t n = 1000000 / braid_test::kStressDivisor;
    std::vector<void*> blocks(n);  // reserved before the first reading
    Footprint fp;
    for (auto& b : blocks) REQUIRE((b = braid_alloc(64)) != nullptr);
    fp.at_peak();
    for (auto b : blocks) braid_free(b, 64);
    fp.check_returned(braid_test::kSanitized ? 0 : n * 64);
}

// Blocks of a cached size come from slabs even once a thread's cache is gone
// (were they the system's, the thread that frees them would pass them to the
// pool, whose sweep would take a slab header from a masked heap address).
TEST_CASE("rt_memory_return.blocks allocated while a thread exits come from slabs and go back after a burst") {
    const std::size_t n = 200000 / braid_test::kStressDivisor;
    std::vector<void*> blocks;
    blocks.reserve(n);
    Footprint fp;
    std::thread([&blocks] {
        thread_local LateAllocs late;  // made before this thread's cache, destroyed after it
        late.out = &blocks;
        late.n = n;
        braid_free(braid_alloc(64), 64);  // makes the cache
    }).join();
    fp.at_peak();
    REQUIRE(blocks.size() == n);
    for (void* b : blocks) REQUIRE(b != nullptr);
    for (void* b : blocks) braid_free(b, 64);
    fp.check_returned(braid_test::kSanitized ? 0 : n * 64);
}

TEST_CASE("rt_memory_return.a million tasks that ended give their memory back") {
    const int n = 1000000 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> { co_return; }());  // threads up and running
    Footprint fp;
    rt.block_on([](int n, Footprint* fp) -> braid::Task<> {
        braid::Semaphore gate(0);
        braid::Notify done;
        std::atomic<int> left{n};
        for (int i = 0; i < n; ++i) braid::spawn(hold(&gate, &left, &done)).detach();
        fp->at_peak();
        gate.add_permits(std::size_t(n));
        co_await done.notified();  // every task has ended its body
    }(n, &fp));
    fp.check_returned(braid_test::kSanitized ? 0 : std::size_t(n) * 200);
}

TEST_CASE("rt_memory_return.ten million messages queued in an unbounded channel give their memory back once received") {
    const uint64_t n = 10000000 / braid_test::kStressDivisor;
    auto rt = braid_test::runtime(2);
    rt.block_on([]() -> braid::Task<> { co_return; }());
    Footprint fp;
    uint64_t sum = rt.block_on([](uint64_t n, Footprint* fp) -> braid::Task<uint64_t> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<uint64_t>();
        for (uint64_t i = 0; i < n; ++i) EXPECT(!tx.send(i));
        fp->at_peak();
        uint64_t s = 0;
        for (uint64_t i = 0; i < n; ++i) s += *co_await rx.recv();
        co_return s;
    }(n, &fp));
    REQUIRE(sum == n * (n - 1) / 2);
    fp.check_returned(braid_test::kSanitized ? 0 : n * 8);
}

}  // namespace test_rt_memory_return
