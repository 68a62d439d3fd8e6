// RwLock: many readers or one writer, FIFO and write-preferring, downgrade,
// owned guards, blocking locks, cancellation (a writer's partial grant goes
// back), the C ABI.
#include <catch2/catch.hpp>
#include <braid/rwlock.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_sync_rwlock {

using namespace std::chrono_literals;

namespace {
struct CountingWaker {
    std::atomic<int> calls{0};
    static void wake(void* p) { static_cast<CountingWaker*>(p)->calls++; }
};
}  // namespace

TEST_CASE("sync_rwlock.rwlock: readers share, a writer is alone") {
    braid::RwLock<std::map<std::string, std::string>> map;
    {
        auto r1 = map.try_read();
        auto r2 = map.try_read();
        REQUIRE(r1);
        REQUIRE(r2);
        REQUIRE_FALSE(map.try_write());
    }
    {
        auto w = map.try_write();
        REQUIRE(w);
        (**w)["key"] = "value";
        REQUIRE_FALSE(map.try_read());
        REQUIRE_FALSE(map.try_write());
    }
    auto rt = braid_test::runtime(1);
    std::string v = rt.block_on([](auto* m) -> braid::Task<std::string> {
        { auto w = co_await m->write(); (*w)["k2"] = "v2"; }
        auto r = co_await m->read();
        co_return r->at("key") + r->at("k2");
    }(&map));
    REQUIRE(v == "valuev2");
}

TEST_CASE("sync_rwlock.rwlock: a waiting writer goes before readers that came after it") {
    auto rt = braid_test::runtime(1);
    auto log = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto l = std::make_shared<braid::RwLock<std::vector<std::string>>>();
        auto first = co_await l->read();
        auto writer = braid::spawn([](auto l) -> braid::Task<> {
            auto w = co_await l->write();
            w->push_back("w");
        }(l));
        co_await braid::yield_now();
        auto reader = braid::spawn([](auto l) -> braid::Task<> {
            auto r = co_await l->read();
            (void)r;
        }(l));
        co_await braid::yield_now();
        bool reader_done = reader.is_finished();
        { auto drop = std::move(first); }
        co_await writer;
        co_await reader;
        auto r = co_await l->read();
        std::vector<std::string> out = *r;
        out.push_back(reader_done ? "reader overtook" : "fair");
        co_return out;
    }());
    REQUIRE(log == std::vector<std::string>{"w", "fair"});
}

TEST_CASE("sync_rwlock.rwlock: readers and writers on two workers keep the invariant") {
    auto rt = braid_test::runtime(2);
    int bad = rt.block_on([]() -> braid::Task<int> {
        struct S {
            mutable std::atomic<int> readers{0};
            mutable std::atomic<int> writers{0};
            mutable std::atomic<int> bad{0};
        };
        auto l = std::make_shared<braid::RwLock<S>>(std::in_place);
        std::vector<braid::JoinHandle<void>> hs;
        for (int i = 0; i < 32; ++i)
            hs.push_back(braid::spawn([](auto l, bool writer) -> braid::Task<> {
                for (int k = 0; k < 200; ++k) {
                    if (writer) {
                        auto w = co_await l->write();
                        if (w->writers.fetch_add(1) != 0 || w->readers.load() != 0) w->bad++;
                        co_await braid::yield_now();
                        w->writers.fetch_sub(1);
                    } else {
                        auto r = co_await l->read();
                        r->readers.fetch_add(1);
                        if (r->writers.load() != 0) r->bad++;
                        co_await braid::yield_now();
                        r->readers.fetch_sub(1);
                    }
                }
            }(l, i % 4 == 0)));
        for (auto& h : hs) co_await h;
        co_return l->get_mut().bad.load();
    }());
    REQUIRE(bad == 0);
}

TEST_CASE("sync_rwlock.rwlock: downgrade keeps other writers out") {
    auto rt = braid_test::runtime(1);
    auto r = rt.block_on([]() -> braid::Task<std::vector<int>> {
        auto l = std::make_shared<braid::RwLock<int>>(1);
        auto w = co_await l->write();
        *w = 2;
        auto r = std::move(w).downgrade();
        std::vector<int> out{*r, l->try_write() ? 1 : 0, l->try_read() ? 1 : 0};
        { auto drop = std::move(r); }
        out.push_back(l->try_write() ? 1 : 0);
        co_return out;
    }());
    REQUIRE(r == std::vector<int>{2, 0, 1, 1});
}

TEST_CASE("sync_rwlock.rwlock: owned guards move into other tasks") {
    auto rt = braid_test::runtime(2);
    int v = rt.block_on([]() -> braid::Task<int> {
        auto l = std::make_shared<braid::RwLock<int>>(5);
        auto w = co_await braid::write_owned(l);
        auto h = braid::spawn([](braid::OwnedRwLockWriteGuard<int> w) -> braid::Task<> {
            co_await braid::sleep(1ms);
            *w += 1;
        }, std::move(w));
        auto r = co_await braid::read_owned(l);
        co_await h;
        co_return *r;
    }());
    REQUIRE(v == 6);
}

TEST_CASE("sync_rwlock.rwlock: a cancelled writer gives back the readers' share it collected") {
    braid_rwlock* rw = nullptr;
    REQUIRE(braid_rwlock_new(&rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);
    CountingWaker wr, rd;
    braid_waiter* ww = nullptr;
    braid_waiter* wrd = nullptr;
    REQUIRE(braid_rwlock_poll_write(rw, &ww, &CountingWaker::wake, &wr) == BRAID_PENDING);  // collects all but 2
    REQUIRE(braid_rwlock_poll_read(rw, &wrd, &CountingWaker::wake, &rd) == BRAID_PENDING);  // behind the writer
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_EAGAIN);
    braid_rwlock_cancel_write(rw, &ww);
    REQUIRE(ww == nullptr);
    REQUIRE(rd.calls == 1);  // the reader gets in
    REQUIRE(braid_rwlock_poll_read(rw, &wrd, &CountingWaker::wake, &rd) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);  // and so do others
    for (int i = 0; i < 4; ++i) REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_EINVAL);
    braid_rwlock_free(rw);
}

TEST_CASE("sync_rwlock.rwlock: blocking locks on foreign threads, refused on workers") {
    auto rt = braid_test::runtime(2);
    braid::RwLock<long> l(0);
    std::vector<std::thread> ts;
    for (int t = 0; t < 3; ++t)
        ts.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                if (t == 0) *l.blocking_write() += 1;
                else (void)*l.blocking_read();
            }
        });
    for (auto& t : ts) t.join();
    REQUIRE(l.get_mut() == 500);
    auto w = l.try_write();
    REQUIRE(braid_rwlock_read_blocking(l.native_handle(), 5) == BRAID_ETIMEDOUT);
    int rc = rt.block_on([](braid_rwlock* h) -> braid::Task<int> { co_return braid_rwlock_write_blocking(h, 1); }(
        l.native_handle()));
    REQUIRE(rc == BRAID_EDEADLK);
}

TEST_CASE("sync_rwlock.rwlock C ABI: bad input") {
    REQUIRE(braid_rwlock_new(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_try_read(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_try_write(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_read_unlock(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_write_unlock(nullptr) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_downgrade(nullptr) == BRAID_EINVAL);
    braid_rwlock* rw = nullptr;
    REQUIRE(braid_rwlock_new(&rw) == BRAID_OK);
    REQUIRE(braid_rwlock_poll_read(rw, nullptr, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_downgrade(rw) == BRAID_EINVAL);  // not write-locked
    braid_rwlock_free(rw);
    braid_rwlock_free(nullptr);
}

TEST_CASE("sync_rwlock.rwlock C ABI: an unlock while the lock is on its way to a waiter is refused") {
    braid_rwlock* rw = nullptr;
    REQUIRE(braid_rwlock_new(&rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);
    {
        braid_test::PolledWait writer(rw, braid_rwlock_poll_write, braid_rwlock_cancel_write);
        REQUIRE(writer.poll() == BRAID_PENDING);
        REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);  // handed to the waiting writer
        REQUIRE(writer.is_woken());
        REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_EINVAL);
        REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_EINVAL);
        writer.cancel();
    }
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_EAGAIN);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);

    // A writer waiting behind a reader holds a partial grant: an extra read
    // unlock is refused while it waits, and after it cancelled.
    REQUIRE(braid_rwlock_try_read(rw) == BRAID_OK);
    {
        braid_test::PolledWait writer(rw, braid_rwlock_poll_write, braid_rwlock_cancel_write);
        REQUIRE(writer.poll() == BRAID_PENDING);
        REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_OK);
        REQUIRE(braid_rwlock_read_unlock(rw) == BRAID_EINVAL);
        REQUIRE(writer.poll() == BRAID_OK);
        REQUIRE(braid_rwlock_try_read(rw) == BRAID_EAGAIN);
        REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    }
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_try_write(rw) == BRAID_OK);
    REQUIRE(braid_rwlock_write_unlock(rw) == BRAID_OK);
    braid_rwlock_free(rw);
}

TEST_CASE("sync_rwlock.rwlock: mapped guards hold the lock for a part of the value") {
    struct Pair {
        int a = 1;
        std::string b = "x";
    };
    braid::RwLock<Pair> lock;
    {
        auto b = (*lock.try_write()).map([](Pair& p) -> std::string& { return p.b; });
        *b += "y";
        REQUIRE_FALSE(lock.try_read().has_value());  // still write-locked
    }
    {
        auto a = (*lock.try_read()).map([](const Pair& p) -> const int& { return p.a; });
        REQUIRE(*a == 1);
        REQUIRE_FALSE(lock.try_write().has_value());  // read-locked
        REQUIRE(lock.try_read().has_value());         // other readers welcome
    }
    {
        auto g = lock.try_write();
        auto none = std::move(*g).try_map([](Pair&) -> int* { return nullptr; });
        REQUIRE_FALSE(none.has_value());
        REQUIRE(g->operator->()->b == "xy");  // the guard kept the lock
        REQUIRE_FALSE(lock.try_read().has_value());
    }
    REQUIRE(lock.try_write().has_value());  // everything unlocked
    REQUIRE(std::move(lock).into_inner().b == "xy");
    braid_rwlock* raw = nullptr;
    REQUIRE(braid_rwlock_new_with_max_readers(&raw, 0) == BRAID_EINVAL);
    REQUIRE(raw == nullptr);
    REQUIRE(braid_rwlock_new_with_max_readers(&raw, BRAID_RWLOCK_MAX_READERS + 1u) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_new_with_max_readers(nullptr, 2) == BRAID_EINVAL);
    REQUIRE(braid_rwlock_new_with_max_readers(&raw, 2) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(raw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(raw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(raw) == BRAID_EAGAIN);  // two readers at most
    REQUIRE(braid_rwlock_try_write(raw) == BRAID_EAGAIN);
    REQUIRE(braid_rwlock_read_unlock(raw) == BRAID_OK);
    REQUIRE(braid_rwlock_read_unlock(raw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_write(raw) == BRAID_OK);
    REQUIRE(braid_rwlock_try_read(raw) == BRAID_EAGAIN);
    REQUIRE(braid_rwlock_downgrade(raw) == BRAID_OK);  // one reader; one more fits
    REQUIRE(braid_rwlock_try_read(raw) == BRAID_OK);
    REQUIRE(braid_rwlock_read_unlock(raw) == BRAID_OK);
    REQUIRE(braid_rwlock_read_unlock(raw) == BRAID_OK);
    braid_rwlock_free(raw);
}

}  // namespace test_sync_rwlock
