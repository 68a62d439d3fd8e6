// select, join and timeout over leaf awaitables allocate no coroutine frame:
// the branches poll the leaves directly.  Every frame of braid's C++ layer
// comes from braid_alloc (PromiseBase::operator new); this test's own
// braid_alloc counts the calls made from this program (the header code) and
// hands them on to the library's.  The kinds of branch are checked at
// compile time too.
#include <catch2/catch.hpp>

#include <atomic>
#include <dlfcn.h>

#include "support.hpp"

namespace test_task_branch_alloc {

using namespace std::chrono_literals;

namespace {
std::atomic<long> g_allocs{0};
}  // namespace

extern "C" void* braid_alloc(size_t size) {
    using Fn = void* (*)(size_t);
    static Fn next = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "braid_alloc"));
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return next(size);
}

namespace {

using braid::detail::Kind;
using braid::detail::kind_of;
// By value, by lvalue (kept), and through operator co_await: a leaf branch.
static_assert(kind_of<braid::mpsc::Receiver<int>::Recv>() == Kind::leaf_owned);
static_assert(kind_of<braid::mpsc::Receiver<int>::Recv&>() == Kind::leaf_ref);
static_assert(kind_of<braid::Sleep>() == Kind::leaf_owned);
static_assert(kind_of<braid::Sleep&>() == Kind::leaf_ref);
static_assert(kind_of<braid::Mutex<int>::Lock>() == Kind::leaf_owned);
static_assert(kind_of<braid::Semaphore::Acquire>() == Kind::leaf_owned);
static_assert(kind_of<braid::Notify::Notified>() == Kind::leaf_owned);
static_assert(kind_of<braid::AsyncFd<>::Ready>() == Kind::leaf_owned);
static_assert(kind_of<braid::oneshot::Receiver<int>>() == Kind::leaf_held);
static_assert(kind_of<braid::oneshot::Receiver<int>&>() == Kind::leaf_owned);
static_assert(kind_of<braid::JoinHandle<int>>() == Kind::leaf_held);
// A Task is its own frame; a non-leaf awaitable by value still gets one.
static_assert(kind_of<braid::Task<int>>() == Kind::task);
static_assert(kind_of<braid::detail::AcquireOwned>() == Kind::frame);

}  // namespace

TEST_CASE("task_branch_alloc.select over two receives in a loop allocates no frame") {
    auto rt = braid_test::runtime(1);
    long frames = rt.block_on([]() -> braid::Task<long> {
        auto [atx, arx] = braid::mpsc::channel<int>(64);
        auto [btx, brx] = braid::mpsc::channel<int>(64);
        for (int i = 0; i < 50; ++i) {
            EXPECT(!atx.try_send(i));
            EXPECT(!btx.try_send(i));
        }
        long sum = 0;
        long before = g_allocs.load();
        for (int i = 0; i < 100; ++i) {
            auto r = co_await braid::select(arx.recv(), brx.recv());
            sum += r.index() == 0 ? *std::get<0>(r) : *std::get<1>(r);
        }
        long frames = g_allocs.load() - before;
        EXPECT(sum == 2 * (49 * 50 / 2));
        // the losing receive lost nothing: both channels are empty now
        EXPECT(arx.len() == 0 && brx.len() == 0);
        co_return frames;
    }());
    REQUIRE(frames == 0);
}

TEST_CASE("task_branch_alloc.timeout, join and select over leaves, kept or by value, allocate no frame") {
    auto rt = braid_test::paused_runtime();
    long frames = rt.block_on([]() -> braid::Task<long> {
        auto [tx, rx] = braid::mpsc::channel<int>(8);
        braid::Mutex<int> m(0);
        braid::Semaphore sem(1);
        braid::Notify notify;
        auto deadline = braid::sleep(1h);
        long before = g_allocs.load();
        for (int i = 0; i < 10; ++i) {
            EXPECT(!tx.try_send(i));
            auto v = co_await braid::timeout(1s, rx.recv());  // ready
            EXPECT(v && *v == i);
            auto none = co_await braid::timeout(1ms, rx.recv());  // times out
            EXPECT(!none);
            auto [g, p] = co_await braid::join(m.lock(), sem.acquire());
            *g += 1;
            notify.notify_one();
            auto r = co_await braid::select(deadline, notify.notified(), rx.recv());
            EXPECT(r.index() == 1);
            auto [otx, orx] = braid::oneshot::channel<int>();
            otx.send(i);
            auto o = co_await braid::select(std::move(orx), braid::sleep(1h));  // held by the branch
            EXPECT(o.index() == 0 && std::get<0>(o) == i);
        }
        co_return g_allocs.load() - before;
    }());
    REQUIRE(frames == 0);
}

TEST_CASE("task_branch_alloc.a non-leaf awaitable by value still gets a frame (the counter sees frames)") {
    auto rt = braid_test::paused_runtime();
    long frames = rt.block_on([]() -> braid::Task<long> {
        auto sem = std::make_shared<braid::Semaphore>(1);
        long before = g_allocs.load();
        auto r = co_await braid::select(braid::acquire_owned(sem), braid::sleep(1h));
        EXPECT(r.index() == 0);
        co_return g_allocs.load() - before;
    }());
    REQUIRE(frames == 1);
}

}  // namespace test_task_branch_alloc
