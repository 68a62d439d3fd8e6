// Streams over channels and signals: mpsc, broadcast (lag in the items),
// watch (current value first, then changes), signals; and a channel-fed
// pipeline.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support.hpp"

namespace test_stream_wrappers {

using namespace std::chrono_literals;
using braid_test::Tracked;
namespace bs = braid::stream;

TEST_CASE("stream_wrappers.from_receiver: every value in order, ends when the senders are gone") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    {
        auto rt = braid_test::runtime(2);
        auto v = rt.block_on([]() -> braid::Task<std::vector<int>> {
            auto [tx, rx] = braid::mpsc::channel<Tracked>(3);
            for (int p = 0; p < 2; ++p)
                braid::spawn([](braid::mpsc::Sender<Tracked> tx, int p) -> braid::Task<> {
                    for (int i = 0; i < 50; ++i) co_await tx.send(Tracked(p * 1000 + i));
                }, tx, p).detach();
            tx = {};
            co_return co_await (bs::from_receiver(std::move(rx)) | bs::map([](Tracked t) { return t.value; }) | bs::collect());
        }());
        REQUIRE(v.size() == 100);
        int next0 = 0, next1 = 1000;
        for (int x : v) {
            if (x < 1000) REQUIRE(x == next0++);
            else REQUIRE(x == next1++);
        }
    }
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("stream_wrappers.from_receiver: dropping the stream drops the receiver and the values left") {
    Tracked::constructed = 0;
    Tracked::destroyed = 0;
    auto rt = braid_test::runtime(1);
    auto [first, closed] = rt.block_on([]() -> braid::Task<std::pair<int, bool>> {
        auto [tx, rx] = braid::mpsc::unbounded_channel<Tracked>();
        for (int i = 0; i < 10; ++i) tx.send(Tracked(i));
        int first;
        {
            auto s = bs::from_receiver(std::move(rx));
            first = (*co_await s.next()).value;
        }
        co_return std::make_pair(first, tx.is_closed());
    }());
    REQUIRE(first == 0);
    REQUIRE(closed);
    REQUIRE(Tracked::live() == 0);
}

TEST_CASE("stream_wrappers.from_broadcast: a slow receiver sees how many values it missed, in the stream") {
    auto rt = braid_test::runtime(1);
    auto log = rt.block_on([]() -> braid::Task<std::vector<std::string>> {
        auto tx = braid::broadcast::channel<int>(4);
        auto s = bs::from_broadcast(tx.subscribe());
        for (int i = 0; i < 10; ++i) tx.send(i);  // 6 more than the channel keeps
        tx = braid::broadcast::Sender<int>();      // the only sender: the stream ends after the backlog
        std::vector<std::string> log;
        while (auto r = co_await s.next()) {
            if (r->is_lagged()) log.push_back("lagged " + std::to_string(r->lagged()));
            else log.push_back(std::to_string(**r));
        }
        co_return log;
    }());
    REQUIRE(log == std::vector<std::string>{"lagged 6", "6", "7", "8", "9"});
}

TEST_CASE("stream_wrappers.from_watch: the current value, then each new one, from_watch_changes: only new ones") {
    auto rt = braid_test::runtime(2);
    auto [all, changes] = rt.block_on([]() -> braid::Task<std::pair<std::vector<std::string>, std::vector<std::string>>> {
        auto [tx, rx] = braid::watch::channel<std::string>("initial");
        auto a = bs::from_watch(rx);
        auto b = bs::from_watch_changes(rx);
        std::vector<std::string> all, changes;
        all.push_back(*co_await a.next());
        for (std::string v : {"one", "two"}) {
            tx.send(v);
            all.push_back(*co_await a.next());
            changes.push_back(*co_await b.next());
        }
        tx = braid::watch::Sender<std::string>();
        if (co_await a.next()) all.push_back("not ended");
        if (co_await b.next()) changes.push_back("not ended");
        co_return std::make_pair(all, changes);
    }());
    REQUIRE(all == std::vector<std::string>{"initial", "one", "two"});
    REQUIRE(changes == std::vector<std::string>{"one", "two"});
}

TEST_CASE("stream_wrappers.from_signal: every delivery is an item") {
    auto rt = braid_test::runtime(2);
    auto n = rt.block_on([]() -> braid::Task<int> {
        auto s = bs::from_signal(SIGUSR2);  // listening from here on
        int n = 0;
        for (int i = 0; i < 3; ++i) {
            ::kill(::getpid(), SIGUSR2);
            if (auto v = co_await s.next(); v && *v == SIGUSR2) ++n;
        }
        co_return n;
    }());
    REQUIRE(n == 3);
}

TEST_CASE("stream_wrappers.a channel-fed pipeline across tasks: parse, filter, batch, sum") {
    auto rt = braid_test::runtime(2);
    auto [batches, total] = rt.block_on([]() -> braid::Task<std::pair<std::size_t, long>> {
        auto [tx, rx] = braid::mpsc::channel<std::string>(16);
        braid::spawn([](braid::mpsc::Sender<std::string> tx) -> braid::Task<> {
            for (int i = 0; i < 1000; ++i) co_await tx.send(std::to_string(i));
        }, std::move(tx)).detach();
        auto s = bs::from_receiver(std::move(rx)) | bs::map([](std::string line) { return std::stol(line); })
               | bs::filter([](const long& x) { return x % 3 == 0; }) | bs::chunks(50);
        std::size_t batches = 0;
        long total = 0;
        while (auto b = co_await s.next()) {
            ++batches;
            for (long x : *b) total += x;
        }
        co_return std::make_pair(batches, total);
    }());
    REQUIRE(batches == 7);  // 334 multiples of 3 below 1000
    REQUIRE(total == 3L * 333 * 334 / 2);
}

TEST_CASE("stream_wrappers.from_tcp_listener: accepted connections as a stream, served with buffer_unordered") {
    auto rt = braid_test::runtime(2);
    auto [replies, served] = rt.block_on([]() -> braid::Task<std::pair<std::vector<std::string>, std::size_t>> {
        auto listener = braid::net::TcpListener::bind("127.0.0.1:0");
        auto addr = listener.local_addr();
        // the server: 4 connections, each answered concurrently, then done
        auto server = braid::spawn([](braid::net::TcpListener l) -> braid::Task<std::size_t> {
            co_return co_await (bs::from_tcp_listener(std::move(l)) | bs::take(4)
                                | bs::map([](braid::net::TcpStream s) -> braid::Task<int> {
                                      char buf[16];
                                      std::size_t n = co_await s.read(braid::io::MutableBuffer(buf, sizeof buf));
                                      std::string reply = "re:" + std::string(buf, n);
                                      co_await s.write_all(reply);
                                      co_return 1;
                                  })
                                | bs::buffer_unordered(4) | bs::count());
        }, std::move(listener));
        std::vector<std::string> replies;
        for (int i = 0; i < 4; ++i) {
            auto c = co_await braid::net::TcpStream::connect(addr);
            std::string msg = "c" + std::to_string(i);
            co_await c.write_all(msg);
            std::string back(3 + msg.size(), '\0');
            co_await c.read_exact(back);
            replies.push_back(back);
        }
        std::size_t served = co_await server;
        co_return std::make_pair(replies, served);
    }());
    REQUIRE(replies == std::vector<std::string>{"re:c0", "re:c1", "re:c2", "re:c3"});
    REQUIRE(served == 4);
}

}  // namespace test_stream_wrappers
