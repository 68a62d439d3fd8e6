// DNS: lookups of localhost and numeric hosts, a name that cannot resolve
// (.invalid) failing cleanly and fast, cancellation (C++ and C), bad input,
// connecting by name, and shutdown with lookups in flight.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace test_io_dns {

using namespace std::chrono_literals;
using braid::net::SocketAddr;

namespace {
using braid_test::code_of;
}  // namespace

TEST_CASE("io_dns.DNS: localhost and numeric hosts resolve, with the port set") {
    auto rt = braid_test::runtime(2);
    auto [local, numeric, v6] = rt.block_on([]() -> braid::Task<std::tuple<std::vector<std::string>, std::vector<std::string>, std::vector<std::string>>> {
        std::vector<std::string> a, b, c;
        for (auto& x : co_await braid::net::lookup_host("localhost", 8080)) a.push_back(x.to_string());
        for (auto& x : co_await braid::net::lookup_host("127.0.0.1:9")) b.push_back(x.to_string());
        for (auto& x : co_await braid::net::lookup_host("[::1]:53")) c.push_back(x.to_string());
        co_return std::make_tuple(a, b, c);
    }());
    REQUIRE(!local.empty());
    bool loopback = false;
    for (auto& s : local) loopback |= s == "127.0.0.1:8080" || s == "[::1]:8080";
    REQUIRE(loopback);
    REQUIRE(numeric == std::vector<std::string>{"127.0.0.1:9"});
    REQUIRE(v6 == std::vector<std::string>{"[::1]:53"});
}

TEST_CASE("io_dns.DNS: a name under .invalid fails cleanly and fast") {
    auto rt = braid_test::runtime(2);
    auto t0 = std::chrono::steady_clock::now();
    auto codes = rt.block_on([]() -> braid::Task<std::vector<int>> {
        std::vector<int> out;
        out.push_back(co_await code_of(braid::net::lookup_host("no-such-host.invalid", 80)));
        out.push_back(co_await code_of(braid::net::lookup_host("INVALID.", 80)));
        out.push_back(co_await code_of(braid::net::TcpStream::connect("really.does.not.exist.invalid:443")));
        co_return out;
    }());
    auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE(codes == std::vector<int>{BRAID_ENOTFOUND, BRAID_ENOTFOUND, BRAID_ENOTFOUND});
    REQUIRE(took < 1s);
}

TEST_CASE("io_dns.DNS: connect by name tries the addresses in turn") {
    auto rt = braid_test::runtime(2);
    std::string got = rt.block_on([]() -> braid::Task<std::string> {
        auto l = braid::net::TcpListener::bind("127.0.0.1:0");
        uint16_t port = l.local_addr().port();
        auto accepting = braid::spawn([](braid::net::TcpListener l) -> braid::Task<std::string> {
            auto [s, peer] = co_await l.accept();
            std::string msg(5, '\0');
            co_await s.read_exact(msg);
            co_return msg;
        }(std::move(l)));
        // localhost may list ::1 first: that one is refused, 127.0.0.1 works.
        auto c = co_await braid::net::TcpStream::connect("localhost", port);
        co_await c.write_all("hello");
        co_return co_await accepting;
    }());
    REQUIRE(got == "hello");
}

TEST_CASE("io_dns.DNS: lookups are cancellable") {
    auto rt = braid_test::runtime(2);
    int finished = rt.block_on([]() -> braid::Task<int> {
        int done = 0;
        for (int i = 0; i < 50; ++i) {
            // The lookup is in flight when the timer (already due) wins.
            auto r = co_await braid::select_biased(braid::sleep(0ms), braid::net::lookup_host("localhost", i));
            if (r.index() == 1) ++done;
        }
        // And a timeout around one that is allowed to finish.
        auto ok = co_await braid::timeout(10s, braid::net::lookup_host("localhost", 1));
        if (ok) ++done;
        co_return done;
    }());
    REQUIRE(finished >= 1);
}

TEST_CASE("io_dns.DNS: bad input") {
    auto rt = braid_test::runtime(1);
    auto codes = rt.block_on([]() -> braid::Task<std::vector<int>> {
        std::vector<int> out;
        out.push_back(co_await code_of(braid::net::lookup_host("", 80)));
        out.push_back(co_await code_of(braid::net::lookup_host(std::string_view("local\0host", 10), 80)));
        out.push_back(co_await code_of(braid::net::lookup_host("localhost", 70000)));
        out.push_back(co_await code_of(braid::net::lookup_host("localhost", -1)));
        out.push_back(braid_test::error_code_of([] { (void)braid::net::lookup_host("localhost"); }));
        out.push_back(braid_test::error_code_of([] { (void)braid::net::lookup_host("localhost:99999"); }));
        out.push_back(braid_test::error_code_of([] { (void)braid::net::lookup_host("::1:80"); }));
        co_return out;
    }());
    REQUIRE(codes == std::vector<int>{BRAID_EINVAL, BRAID_EINVAL, BRAID_ERANGE, BRAID_ERANGE, BRAID_EINVAL,
                                      BRAID_ERANGE, BRAID_EINVAL});
}

namespace {
struct DnsResult {
    std::atomic<int> calls{0};
    std::atomic<int> status{1000};
    std::atomic<size_t> count{0};
    static void cb(void* p, int st, braid_dns_query* q) {
        auto* r = static_cast<DnsResult*>(p);
        r->status = st;
        r->count = braid_dns_query_count(q);
        braid_dns_query_free(q);
        r->calls++;
    }
};
}  // namespace

TEST_CASE("io_dns.DNS from C: callback lookup, abort, bad input, shutdown with lookups in flight") {
    braid_runtime* rt = nullptr;
    REQUIRE(braid_runtime_new(&rt) == BRAID_OK);
    DnsResult ok, bad, aborted, never;
    braid_task* t = nullptr;
    REQUIRE(braid_dns_lookup(&t, rt, "localhost", 80, &DnsResult::cb, &ok) == BRAID_OK);
    REQUIRE(braid_task_join_blocking(t, BRAID_WAIT_FOREVER) == BRAID_OK);
    braid_task_free(t);
    REQUIRE(ok.calls == 1);
    REQUIRE(ok.status == BRAID_OK);
    REQUIRE(ok.count >= 1);

    REQUIRE(braid_dns_lookup(&t, rt, "x.invalid", 80, &DnsResult::cb, &bad) == BRAID_OK);
    braid_task_join_blocking(t, BRAID_WAIT_FOREVER);
    braid_task_free(t);
    REQUIRE(bad.status == BRAID_ENOTFOUND);

    REQUIRE(braid_dns_lookup(&t, rt, "localhost", 80, &DnsResult::cb, &aborted) == BRAID_OK);
    braid_task_abort(t);
    braid_task_join_blocking(t, BRAID_WAIT_FOREVER);
    braid_task_free(t);
    REQUIRE(aborted.calls == 1);
    REQUIRE((aborted.status == BRAID_ECANCELED || aborted.status == BRAID_OK));

    REQUIRE(braid_dns_lookup(&t, rt, nullptr, 80, &DnsResult::cb, &never) == BRAID_EINVAL);
    REQUIRE(braid_dns_lookup(&t, rt, "", 80, &DnsResult::cb, &never) == BRAID_EINVAL);
    REQUIRE(braid_dns_lookup(&t, rt, "localhost", 65536, &DnsResult::cb, &never) == BRAID_ERANGE);
    REQUIRE(braid_dns_lookup(&t, rt, "localhost", 80, nullptr, nullptr) == BRAID_EINVAL);
    REQUIRE(never.calls == 0);
    braid_dns_query* q = nullptr;
    REQUIRE(braid_dns_query_start(&q, rt, "localhost", 443) == BRAID_OK);
    sockaddr_storage ss;
    size_t sl;
    REQUIRE(braid_dns_query_addr(q, 0, &ss, &sl) == BRAID_ERANGE);  // not resolved yet (or ever read)
    // Left in flight: the runtime shuts down around it.
    DnsResult pending;
    REQUIRE(braid_dns_lookup(nullptr, rt, "localhost", 80, &DnsResult::cb, &pending) == BRAID_OK);
    REQUIRE(braid_runtime_free(rt) == BRAID_OK);
    REQUIRE(pending.calls == 1);
    braid_dns_query_free(q);  // after the runtime: still safe
}

}  // namespace test_io_dns
