// DelayQueue: entries come out at their deadlines, in deadline order (ties
// in insertion order); reset and remove; stale keys; next() kept across
// selects sees inserts and resets made between them.  Paused time.
#include <catch2/catch.hpp>

#include <braid/delay_queue.hpp>

#include <string>
#include <vector>

#include "support.hpp"

namespace test_time_delay_queue {

using namespace std::chrono_literals;

namespace {
long ms_since(braid::Instant t0) {
    return long(std::chrono::duration_cast<std::chrono::milliseconds>(braid::Instant::now() - t0).count());
}
}  // namespace

TEST_CASE("time_delay_queue.delay_queue: entries expire in deadline order, ties in insertion order") {
    auto rt = braid_test::paused_runtime();
    auto out = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto t0 = braid::Instant::now();
        braid::DelayQueue<std::string> q;
        q.insert("c", 30ms);
        q.insert("a", 10ms);
        q.insert("b1", 20ms);
        q.insert("b2", 20ms);
        q.insert("now", -5ms);  // a negative delay: due at once
        EXPECT(q.len() == 5);
        std::vector<std::string> seen;
        while (auto e = co_await q.next()) seen.push_back(e->value + "@" + std::to_string(ms_since(t0)));
        EXPECT(q.is_empty());
        co_return seen;
    }());
    REQUIRE(out == std::vector<std::string>{"now@0", "a@10", "b1@20", "b2@20", "c@30"});
}

TEST_CASE("time_delay_queue.delay_queue: reset moves an entry, remove takes it out, stale keys are refused") {
    auto rt = braid_test::paused_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto t0 = braid::Instant::now();
        braid::DelayQueue<int> q;
        auto k1 = q.insert(1, 10ms);
        auto k2 = q.insert(2, 20ms);
        auto k3 = q.insert(3, 30ms);
        q.reset(k1, 40ms);  // now last
        EXPECT(q.deadline(k1) == t0 + 40ms);
        EXPECT(q.peek() == k2);
        auto removed = q.remove(k3);
        EXPECT(removed.value == 3 && removed.key == k3 && removed.deadline == t0 + 30ms);
        EXPECT(!q.try_remove(k3).has_value());  // stale now
        EXPECT(!q.deadline(k3).has_value());
        bool threw = false;
        try {
            q.reset(k3, 1ms);
        } catch (const braid::Error& e) {
            threw = e.code() == BRAID_EINVAL;
        }
        EXPECT(threw);
        auto k4 = q.insert(4, 5ms);  // reuses k3's slot
        EXPECT(k4.index == k3.index && !(k4 == k3));
        std::vector<std::pair<int, long>> seen;
        while (auto e = co_await q.next()) seen.emplace_back(e->value, ms_since(t0));
        EXPECT((seen == std::vector<std::pair<int, long>>{{4, 5}, {2, 20}, {1, 40}}));
        EXPECT(!q.try_remove(k1).has_value());
    }());
}

TEST_CASE("time_delay_queue.delay_queue: next() kept across selects sees an earlier insert and a reset made between them") {
    auto rt = braid_test::paused_runtime();
    auto log = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto t0 = braid::Instant::now();
        braid::DelayQueue<std::string> q;
        auto late = q.insert("late", 100ms);
        auto [tx, rx] = braid::mpsc::channel<std::string>(4);
        auto producer = braid::spawn([](braid::mpsc::Sender<std::string> tx) -> braid::Task<> {
            co_await braid::sleep(5ms);
            (void)co_await tx.send("early");  // inserted due at 5 + 10 ms
            co_await braid::sleep(5ms);
            (void)co_await tx.send("touch");  // the late entry moves to 10 + 50 ms
            co_await braid::sleep(1s);        // then quiet, the channel still open
        }, std::move(tx));
        auto next = q.next();  // kept across the selects
        std::vector<std::string> seen;
        while (seen.size() < 2) {
            auto r = co_await braid::select(next, rx.recv());
            if (r.index() == 0) {
                auto e = std::get<0>(std::move(r));
                if (e) seen.push_back(e->value + "@" + std::to_string(ms_since(t0)));
            } else if (auto msg = std::get<1>(std::move(r))) {
                if (*msg == "early") q.insert("early", 10ms);
                else q.reset(late, 50ms);
            }
        }
        producer.abort();
        co_return seen;
    }());
    REQUIRE(log == std::vector<std::string>{"early@15", "late@60"});
}

TEST_CASE("time_delay_queue.delay_queue: next() on an empty queue gives nullopt at once, and try_next, clear, capacity") {
    auto rt = braid_test::paused_runtime();
    rt.block_on([]() -> braid::Task<> {
        braid::DelayQueue<int> q;
        q.reserve(8);
        EXPECT(q.capacity() >= 8);
        EXPECT(!(co_await q.next()).has_value());
        auto k = q.insert(7, 10ms);
        EXPECT(!q.try_next().has_value());  // not due yet
        co_await braid::sleep(10ms);
        auto e = q.try_next();
        EXPECT(e.has_value() && e->value == 7);
        q.insert(8, 1ms);
        q.insert(9, 2ms);
        q.clear();
        EXPECT(q.is_empty() && q.len() == 0);
        EXPECT(!q.try_remove(k).has_value());
        EXPECT(!(co_await q.next()).has_value());
    }());
}

}  // namespace test_time_delay_queue
