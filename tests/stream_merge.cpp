// Several streams at once: merge (order within each stream, completeness,
// fairness), merge_all, StreamMap, and select over streams' next().
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace test_stream_merge {

using namespace std::chrono_literals;
using braid_test::Tracked;
using braid_test::range;
namespace bs = braid::stream;

namespace {
braid::Stream<int> forever(int v) {
    for (;;) co_yield v;
}
// Items spaced by `gap` (paused time).
braid::Stream<int> ticking(int from, int to, std::chrono::milliseconds gap) {
    for (int i = from; i < to; ++i) {
        co_await braid::sleep(gap);
        co_yield i;
    }
}
using V = std::vector<int>;

// Checks that `all` holds every value of [from, to) once and in order.
bool in_order(const V& all, int from, int to) {
    int next = from;
    for (int x : all)
        if (x >= from && x < to) {
            if (x != next) return false;
            ++next;
        }
    return next == to;
}
}  // namespace

TEST_CASE("stream_merge.merge: every item of every stream, each stream in order") {
    auto rt = braid_test::paused_runtime();
    auto v = rt.block_on([]() -> braid::Task<V> {
        co_return co_await (ticking(0, 20, 3ms) | bs::merge(ticking(100, 120, 5ms), range(200, 230)) | bs::collect());
    }());
    REQUIRE(v.size() == 70);
    REQUIRE(in_order(v, 0, 20));
    REQUIRE(in_order(v, 100, 120));
    REQUIRE(in_order(v, 200, 230));
}

TEST_CASE("stream_merge.merge: items come as they arrive") {
    auto rt = braid_test::paused_runtime();
    auto v = rt.block_on([]() -> braid::Task<V> {
        co_return co_await (ticking(0, 3, 10ms) | bs::merge(ticking(100, 103, 4ms)) | bs::collect());
    }());
    // 4 8 10 12 20 30 (ms)
    REQUIRE(v == V{100, 101, 0, 102, 1, 2});
}

TEST_CASE("stream_merge.merge is fair: a stream that is always ready does not starve the others") {
    auto rt = braid_test::runtime(1);
    auto counts = rt.block_on([]() -> braid::Task<std::map<int, int>> {
        std::map<int, int> counts;
        auto m = forever(1) | bs::merge(forever(2), forever(3));
        for (int i = 0; i < 3000; ++i) ++counts[*co_await m.next()];
        co_return counts;
    }());
    REQUIRE(counts[1] == 1000);
    REQUIRE(counts[2] == 1000);
    REQUIRE(counts[3] == 1000);
}

TEST_CASE("stream_merge.merge_all: a vector of streams") {
    auto rt = braid_test::paused_runtime();
    auto v = rt.block_on([]() -> braid::Task<V> {
        std::vector<braid::Stream<int>> ss;
        for (int k = 0; k < 5; ++k) ss.push_back(ticking(k * 100, k * 100 + 10, std::chrono::milliseconds(k + 1)));
        co_return co_await (bs::merge_all(std::move(ss)) | bs::collect());
    }());
    REQUIRE(v.size() == 50);
    for (int k = 0; k < 5; ++k) REQUIRE(in_order(v, k * 100, k * 100 + 10));
}

TEST_CASE("stream_merge.StreamMap: items keyed by their stream, ended streams leave, empty map ends") {
    auto rt = braid_test::paused_runtime();
    auto [items, sizes] = rt.block_on([]() -> braid::Task<std::pair<std::vector<std::pair<std::string, int>>, V>> {
        bs::StreamMap<std::string, braid::Stream<int>> map;
        map.insert("a", ticking(0, 3, 10ms));
        map.insert("b", ticking(10, 12, 15ms));
        V sizes{int(map.size()), int(map.contains("a")), int(map.contains("c"))};
        std::vector<std::pair<std::string, int>> items;
        while (auto kv = co_await map.next()) {
            items.push_back(*kv);
            sizes.push_back(int(map.size()));
        }
        co_return std::make_pair(items, sizes);
    }());
    // a: 10 20 30; b: 15 30 (ms): the last two come at the same time, in either order
    REQUIRE(items.size() == 5);
    REQUIRE(items[0] == std::pair<std::string, int>("a", 0));
    REQUIRE(items[1] == std::pair<std::string, int>("b", 10));
    REQUIRE(items[2] == std::pair<std::string, int>("a", 1));
    std::multiset<std::pair<std::string, int>> last(items.begin() + 3, items.end());
    REQUIRE(last == std::multiset<std::pair<std::string, int>>{{"a", 2}, {"b", 11}});
    REQUIRE(sizes == V{2, 1, 0, 2, 2, 2, 2, 2});
}

TEST_CASE("stream_merge.StreamMap: insert replaces, remove gives the stream back, fairness") {
    auto rt = braid_test::runtime(1);
    auto [old_first, removed_first, counts] = rt.block_on([]() -> braid::Task<std::tuple<int, int, std::map<int, int>>> {
        bs::StreamMap<int, braid::Stream<int>> map;
        map.insert(1, range(0, 10));
        auto old = map.insert(1, forever(1));
        int old_first = *co_await old->next();
        map.insert(2, forever(2));
        map.insert(3, forever(3));
        std::map<int, int> counts;
        for (int i = 0; i < 300; ++i) ++counts[(*co_await map.next()).first];
        auto removed = map.remove(2);
        int removed_first = *co_await removed->next();
        if (map.contains(2) || map.keys() != V{1, 3}) removed_first = -1;
        co_return std::make_tuple(old_first, removed_first, counts);
    }());
    REQUIRE(old_first == 0);
    REQUIRE(removed_first == 2);
    REQUIRE(counts[1] == 100);
    REQUIRE(counts[2] == 100);
    REQUIRE(counts[3] == 100);
}

TEST_CASE("stream_merge.select over two streams' next(): no item lost, both drained") {
    auto rt = braid_test::paused_runtime();
    auto [a, b] = rt.block_on([]() -> braid::Task<std::pair<V, V>> {
        auto s1 = ticking(0, 50, 3ms);
        auto s2 = ticking(100, 150, 7ms);
        V a, b;
        bool done1 = false, done2 = false;
        while (!done1 || !done2) {
            if (done1) {
                if (auto v = co_await s2.next()) b.push_back(*v);
                else done2 = true;
                continue;
            }
            if (done2) {
                if (auto v = co_await s1.next()) a.push_back(*v);
                else done1 = true;
                continue;
            }
            auto r = co_await braid::select(s1.next(), s2.next());  // the loser's next() is cancelled
            if (r.index() == 0) {
                if (auto& v = std::get<0>(r)) a.push_back(*v);
                else done1 = true;
            } else {
                if (auto& v = std::get<1>(r)) b.push_back(*v);
                else done2 = true;
            }
        }
        co_return std::make_pair(a, b);
    }());
    REQUIRE(a.size() == 50);
    REQUIRE(b.size() == 50);
    REQUIRE(in_order(a, 0, 50));
    REQUIRE(in_order(b, 100, 150));
}

TEST_CASE("stream_merge.select over streams fed from other threads: nothing lost or woken late") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto rt = braid_test::runtime(2);
        auto [na, nb, out_of_order] = rt.block_on([]() -> braid::Task<std::tuple<long, long, long>> {
            auto [ta, ra] = braid::mpsc::unbounded_channel<Tracked>();
            auto [tb, rb] = braid::mpsc::unbounded_channel<Tracked>();
            std::thread pa([t = std::move(ta)] {
                for (int i = 0; i < 5000; ++i) t.send(Tracked(i));
            });
            std::thread pb([t = std::move(tb)] {
                for (int i = 0; i < 5000; ++i) t.send(Tracked(i));
            });
            auto sa = bs::from_receiver(std::move(ra)) | bs::map([](Tracked t) { return long(t.value); });
            auto sb = bs::from_receiver(std::move(rb)) | bs::map([](Tracked t) { return long(t.value); });
            long na = 0, nb = 0, bad = 0;
            bool da = false, db = false;
            while (!da || !db) {
                std::optional<long> va, vb;
                if (da) {
                    vb = co_await sb.next();
                    db = !vb;
                } else if (db) {
                    va = co_await sa.next();
                    da = !va;
                } else {
                    auto r = co_await braid::select(sa.next(), sb.next());  // the loser is cancelled
                    if (r.index() == 0) {
                        va = std::get<0>(r);
                        da = !va;
                    } else {
                        vb = std::get<1>(r);
                        db = !vb;
                    }
                }
                if (va) bad += *va != na++;
                if (vb) bad += *vb != nb++;
            }
            pa.join();
            pb.join();
            co_return std::make_tuple(na, nb, bad);
        }());
        REQUIRE(na == 5000);
        REQUIRE(nb == 5000);
        REQUIRE(out_of_order == 0);
    }
    REQUIRE(Tracked::live() == 0);
}

}  // namespace test_stream_merge
