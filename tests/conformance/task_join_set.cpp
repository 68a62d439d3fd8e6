// Tokio 1.24, tests/task_join_set.rs: JoinSet — len while spawning and
// joining, detach_all, results in any order, dropping the set aborts its
// tasks, aborting single tasks through the AbortHandle spawn returns,
// abort_all, and join_next yielding to the cooperative budget.
//
// Gaps: none.
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <variant>
#include <vector>

#include "support.hpp"

namespace conformance_task_join_set {

using namespace std::chrono_literals;
using braid_test::pending;

namespace {

braid::Task<int> sleep_then(int i) {
    co_await braid::sleep(std::chrono::seconds(i));
    co_return i;
}

}  // namespace

TEST_CASE("task_join_set.test_with_sleep") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([]() -> braid::Task<> {
        braid::JoinSet<int> set;

        for (int i = 0; i < 10; ++i) {
            set.spawn([](int i) -> braid::Task<int> { co_return i; }(i));
            EXPECT(set.len() == std::size_t(1 + i));
        }
        set.detach_all();
        EXPECT(set.len() == 0);

        auto none = co_await set.join_next();
        EXPECT(!none);

        for (int i = 0; i < 10; ++i) {
            set.spawn(sleep_then(i));
            EXPECT(set.len() == std::size_t(1 + i));
        }

        std::array<bool, 10> seen{};
        while (auto res = co_await set.join_next()) seen[std::size_t(*res)] = true;
        for (bool was_seen : seen) EXPECT(was_seen);
        none = co_await set.join_next();
        EXPECT(!none);

        // Do it again.
        for (int i = 0; i < 10; ++i) set.spawn(sleep_then(i));

        seen = {};
        while (auto res = co_await set.join_next()) seen[std::size_t(*res)] = true;
        for (bool was_seen : seen) EXPECT(was_seen);
        none = co_await set.join_next();
        EXPECT(!none);
    }());
}

TEST_CASE("task_join_set.test_abort_on_drop") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        std::vector<braid::oneshot::Receiver<int>> recvs;
        {
            braid::JoinSet<void> set;
            for (int i = 0; i < 16; ++i) {
                auto [send, recv] = braid::oneshot::channel<int>();
                recvs.push_back(std::move(recv));

                set.spawn([](braid::oneshot::Sender<int> send) -> braid::Task<> {
                    // This task will never complete on its own.
                    co_await pending();
                    (void)send;
                }(std::move(send)));
            }
            // The set is dropped here.
        }

        for (auto& recv : recvs) {
            // The task is aborted soon and the sender dropped.
            bool err = false;
            try {
                co_await recv;
            } catch (const braid::RecvError&) {
                err = true;
            }
            EXPECT(err);
        }
    }());
}

TEST_CASE("task_join_set.alternating") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::JoinSet<void> set;

        EXPECT(set.len() == 0);
        set.spawn([]() -> braid::Task<> { co_return; }());
        EXPECT(set.len() == 1);
        set.spawn([]() -> braid::Task<> { co_return; }());
        EXPECT(set.len() == 2);

        for (int i = 0; i < 16; ++i) {
            auto r = co_await set.join_next();
            EXPECT(r);
            EXPECT(set.len() == 1);
            set.spawn([]() -> braid::Task<> { co_return; }());
            EXPECT(set.len() == 2);
        }
    }());
}

TEST_CASE("task_join_set.abort_tasks") {
    auto rt = braid_test::current_thread_runtime(true);
    auto [num_canceled, num_completed] = rt.block_on([]() -> braid::Task<std::pair<int, int>> {
        braid::JoinSet<int> set;
        int num_canceled = 0;
        int num_completed = 0;
        for (int i = 0; i < 16; ++i) {
            auto abort = set.spawn(sleep_then(i));
            // abort odd-numbered tasks.
            if (i % 2 != 0) abort.abort();
        }
        for (;;) {
            std::optional<int> res;
            bool cancelled = false;
            try {
                res = co_await set.join_next();
            } catch (const braid::TaskCancelled&) {
                cancelled = true;
            }
            if (cancelled) {
                ++num_canceled;
            } else if (res) {
                ++num_completed;
                EXPECT(*res % 2 == 0);
            } else {
                break;
            }
        }
        co_return std::make_pair(num_canceled, num_completed);
    }());

    REQUIRE(num_canceled == 8);
    REQUIRE(num_completed == 8);
}

TEST_CASE("task_join_set.abort_all") {
    auto rt = braid_test::current_thread_runtime(true);
    rt.block_on([]() -> braid::Task<> {
        braid::JoinSet<void> set;

        for (int i = 0; i < 5; ++i) set.spawn([]() -> braid::Task<> { co_await pending(); }());
        for (int i = 0; i < 5; ++i) set.spawn([]() -> braid::Task<> { co_await braid::sleep(1s); }());

        // The join set will now have 5 pending tasks and 5 ready tasks.
        co_await braid::sleep(2s);

        set.abort_all();
        EXPECT(set.len() == 10);

        int count = 0;
        for (;;) {
            bool ended = false;
            try {
                auto res = co_await set.join_next();
                ended = !res;
            } catch (const braid::TaskCancelled&) {
                // an aborted one: a cancellation, nothing else
            }
            if (ended) break;
            ++count;
        }
        EXPECT(count == 10);
        EXPECT(set.len() == 0);
    }());
}

// join_next is pending when the cooperative budget is used up (Tokio polls
// it with now_or_never; here PollByHand polls it once).
TEST_CASE("task_join_set.join_set_coop") {
    // Large enough to trigger coop.
    constexpr int TASK_NUM = 1000;

    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::Semaphore sem(0);
        braid::JoinSet<void> set;

        for (int i = 0; i < TASK_NUM; ++i) {
            set.spawn([](braid::Semaphore* sem) -> braid::Task<> {
                sem->add_permits(1);
                co_return;
            }(&sem));
        }

        // Wait for all tasks to complete (on a current-thread runtime a task
        // has completed once its permit is there).
        auto permits = co_await sem.acquire_many(TASK_NUM);

        int count = 0;
        int coop_count = 0;
        for (;;) {
            auto s = braid_test::as_stream(set.join_next());
            braid_test::PollByHand next(s);
            auto p = next.poll_next();
            if (p.is_pending()) {
                coop_count += 1;
                co_await braid::yield_now();
                continue;
            }
            EXPECT(p.item);  // the stream gives join_next's result...
            if (!*p.item) break;  // ...and std::nullopt once the set is empty
            count += 1;
        }
        EXPECT(coop_count >= 1);
        EXPECT(count == TASK_NUM);
    }());
}

TEST_CASE("task_join_set.runtime_gone") {
    braid::JoinSet<int> set;
    {
        auto rt = braid_test::current_thread_runtime();
        set.spawn_on([]() -> braid::Task<int> { co_return 1; }(), rt.handle());
    }  // dropped before the task ran
    auto rt = braid_test::current_thread_runtime();
    int code = rt.block_on([](braid::JoinSet<int>& set) -> braid::Task<int> {
        co_return co_await braid_test::code_of(set.join_next());
    }(set));
    REQUIRE(code == BRAID_ECANCELED);
}

}  // namespace conformance_task_join_set
