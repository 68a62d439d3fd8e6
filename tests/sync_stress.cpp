// Stress, by counting: mpsc with producers and receives cancelled at random
// (every message received exactly once or destroyed exactly once), broadcast
// with slow receivers (lag counts add up), Mutex and Semaphore under
// thousands of tasks aborted at random (one holder at a time, permits
// conserved), watch never going back to an older version.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "support.hpp"

namespace test_sync_stress {

using namespace std::chrono_literals;

namespace {
// Sanitizer builds are 5-20x slower; they send fewer messages (the task
// counts stay).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kSyncScale = 2;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
constexpr int kSyncScale = 2;
#else
constexpr int kSyncScale = 1;
#endif
#else
constexpr int kSyncScale = 1;
#endif

struct Rng {
    uint64_t x;
    explicit Rng(uint64_t seed) : x(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint64_t next() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    }
    uint64_t below(uint64_t n) { return next() % n; }
};

// What happened to every message: constructed by its producer, then either
// received or destroyed without being received.
struct Ledger {
    std::vector<std::atomic<int>> made, received, dropped;
    explicit Ledger(size_t n) : made(n), received(n), dropped(n) {}
};

// A message that reports its own fate.
class Msg {
public:
    Msg(Ledger* l, int id) : l_(l), id_(id) { l_->made[size_t(id)]++; }
    Msg(Msg&& o) noexcept : l_(o.l_), id_(std::exchange(o.id_, -1)) {}
    Msg& operator=(Msg&& o) noexcept {
        if (this != &o) {
            if (id_ >= 0) l_->dropped[size_t(id_)]++;
            l_ = o.l_;
            id_ = std::exchange(o.id_, -1);
        }
        return *this;
    }
    ~Msg() {
        if (id_ >= 0) l_->dropped[size_t(id_)]++;
    }
    void receive() { l_->received[size_t(std::exchange(id_, -1))]++; }

private:
    Ledger* l_;
    int id_;
};

using MsgRx = braid::mpsc::Receiver<Msg>;
}  // namespace

TEST_CASE("sync_stress.stress: mpsc, producers and receives cancelled at random: each message received or destroyed once",
          "[stress]") {
    static constexpr int kProducers = 8;
    const int per = 50000 / kSyncScale;
    // 16: slots go back 4 at a time; 256: the receiving task's give-back is
    // deferred to the end of its poll (or 32 at a time while senders wait).
    const std::size_t capacity = GENERATE(std::size_t(16), std::size_t(256));
    auto ledger = std::make_unique<Ledger>(size_t(kProducers * per));
    auto rt = braid_test::runtime(2);
    auto stats = rt.block_on([](Ledger* l, int per, std::size_t capacity) -> braid::Task<std::vector<int>> {
        auto [tx, rx0] = braid::mpsc::channel<Msg>(capacity);
        auto rx = std::make_shared<MsgRx>(std::move(rx0));
        std::vector<braid::JoinHandle<void>> producers;
        for (int p = 0; p < kProducers; ++p)
            producers.push_back(braid::spawn(
                [](braid::mpsc::Sender<Msg> tx, Ledger* l, int p, int per) -> braid::Task<> {
                    Rng rng(uint64_t(p) + 100);
                    for (int i = 0; i < per; ++i) {
                        int id = p * per + i;
                        switch (p % 3) {
                            case 0: co_await tx.send(Msg(l, id)); break;
                            case 1: {
                                auto permit = co_await tx.reserve();
                                if (rng.below(8) == 0) co_await braid::yield_now();  // holding the slot
                                if (permit) permit->send(Msg(l, id));
                                break;
                            }
                            default: {
                                auto r = co_await tx.send_timeout(Msg(l, id), std::chrono::microseconds(rng.below(50)));
                                while (r && r->is_timeout())
                                    r = co_await tx.send_timeout(std::move(r->value), 1ms);
                                break;
                            }
                        }
                    }
                },
                tx, l, p, per));
        { auto mine = std::move(tx); }  // the producers hold the only senders

        Rng rng(7);
        int aborted = 0, plain = 0, selected = 0, timed = 0, tasks = 0;
        for (int step = 0;; ++step) {
            if (step % 500 == 250 && aborted < 2) {
                producers[size_t(1 + aborted * 3)].abort();  // a producer dies mid-way (maybe mid-send)
                ++aborted;
            }
            std::optional<Msg> got;
            bool closed = false;
            switch (rng.below(4)) {
                case 0: {
                    got = co_await rx->recv();
                    closed = !got;
                    ++plain;
                    break;
                }
                case 1: {
                    auto r = co_await braid::select(rx->recv(), braid::yield_now());
                    if (r.index() == 0) {
                        got = std::move(std::get<0>(r));
                        closed = !got;
                    }
                    ++selected;
                    break;
                }
                case 2: {
                    auto r = co_await braid::timeout(std::chrono::microseconds(rng.below(20)), rx->recv());
                    if (r) {
                        got = std::move(*r);
                        closed = !got;
                    }
                    ++timed;
                    break;
                }
                default: {
                    // A task blocked in recv, aborted at a random moment.
                    auto h = braid::spawn([](std::shared_ptr<MsgRx> rx) -> braid::Task<std::optional<Msg>> {
                        co_return co_await rx->recv();
                    }(rx));
                    for (uint64_t k = rng.below(3); k > 0; --k) co_await braid::yield_now();
                    h.abort();
                    try {
                        got = co_await h;
                        closed = !got;
                    } catch (const braid::TaskCancelled&) {
                    }
                    ++tasks;
                    break;
                }
            }
            if (got) got->receive();
            if (closed) break;
        }
        for (auto& p : producers) {
            try {
                co_await p;
            } catch (const braid::TaskCancelled&) {
            }
        }
        co_return std::vector<int>{aborted, plain, selected, timed, tasks};
    }(ledger.get(), per, capacity));
    REQUIRE(stats[0] == 2);
    long made = 0, received = 0, bad = 0;
    for (size_t i = 0; i < ledger->made.size(); ++i) {
        int m = ledger->made[i], r = ledger->received[i], d = ledger->dropped[i];
        made += m;
        received += r;
        if (m > 1 || r + d != m) ++bad;
    }
    REQUIRE(bad == 0);
    // The six producers that were not aborted made all theirs; the two
    // aborted ones made anything from none (aborted before they first ran)
    // to all of theirs.
    REQUIRE(made >= long(kProducers - 2) * per);
    REQUIRE(made <= long(kProducers) * per);
    REQUIRE(received > 0);
}

TEST_CASE("sync_stress.stress: broadcast with slow receivers: received + lagged adds up for each", "[stress]") {
    const uint64_t n = 200000 / kSyncScale;
    static constexpr int kReceivers = 6;
    auto rt = braid_test::runtime(2);
    auto results = rt.block_on([](uint64_t n) -> braid::Task<std::vector<std::array<uint64_t, 3>>> {
        auto tx = braid::broadcast::channel<uint64_t>(16);
        std::vector<braid::JoinHandle<std::array<uint64_t, 3>>> hs;
        for (int r = 0; r < kReceivers; ++r)
            hs.push_back(braid::spawn(
                [](braid::broadcast::Receiver<uint64_t> rx, int r) -> braid::Task<std::array<uint64_t, 3>> {
                    Rng rng(uint64_t(r) + 1);
                    uint64_t expected = 0, received = 0, lagged = 0, errors = 0;
                    for (;;) {
                        auto v = co_await rx.recv();
                        if (v.is_closed()) break;
                        if (v.is_lagged()) {
                            lagged += v.lagged();
                            expected += v.lagged();
                            continue;
                        }
                        if (*v != expected) ++errors;
                        expected = *v + 1;
                        ++received;
                        // Receivers 0 and 1 are fast; the others dawdle.
                        if (r >= 2 && rng.below(uint64_t(8 - r)) == 0) co_await braid::yield_now();
                        if (r == kReceivers - 1 && rng.below(64) == 0) co_await braid::sleep(50us);
                    }
                    co_return std::array<uint64_t, 3>{received, lagged, errors};
                },
                tx.subscribe(), r));
        Rng rng(99);
        for (uint64_t i = 0; i < n; ++i) {
            tx.send(i);
            if (rng.below(4) == 0) co_await braid::yield_now();
        }
        { auto gone = std::move(tx); }
        std::vector<std::array<uint64_t, 3>> out;
        for (auto& h : hs) out.push_back(co_await h);
        co_return out;
    }(n));
    uint64_t total_lag = 0;
    for (auto& r : results) {
        REQUIRE(r[2] == 0);          // values in order, resuming right after a lag
        REQUIRE(r[0] + r[1] == n);   // every value received or counted as missed
        total_lag += r[1];
    }
    WARN("broadcast stress: values missed by all receivers together: " << total_lag);
}

TEST_CASE("sync_stress.stress: Mutex under 10,000 tasks aborted at random: one holder at a time", "[stress]") {
    const int tasks = 10000;
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([](int tasks) -> braid::Task<std::vector<long>> {
        struct Guarded {
            long entries = 0;  // plain: a second holder would be a data race (TSan) ...
            int inside = 0;    // ... and is counted here
            long overlaps = 0;
        };
        auto m = std::make_shared<braid::Mutex<Guarded>>(std::in_place);
        std::vector<braid::JoinHandle<void>> hs;
        hs.reserve(size_t(tasks));
        Rng rng(3);
        for (int t = 0; t < tasks; ++t) {
            hs.push_back(braid::spawn([](std::shared_ptr<braid::Mutex<Guarded>> m, uint64_t seed) -> braid::Task<> {
                Rng rng(seed);
                for (int k = 0; k < 10; ++k) {
                    auto g = co_await m->lock();
                    if (g->inside++ != 0) g->overlaps++;
                    g->entries++;
                    struct Leave {
                        Guarded* v;
                        ~Leave() { v->inside--; }  // runs before the guard unlocks, also when aborted
                    } leave{&*g};
                    if (rng.below(4) == 0) co_await braid::yield_now();  // aborted while holding: the guard unlocks
                }
            }(m, uint64_t(t))));
            if (rng.below(8) == 0) co_await braid::yield_now();
            if (rng.below(3) == 0) hs[size_t(rng.below(uint64_t(t + 1)))].abort();
        }
        long cancelled = 0;
        for (auto& h : hs) {
            try {
                co_await h;
            } catch (const braid::TaskCancelled&) {
                ++cancelled;
            }
        }
        auto g = m->try_lock();  // nobody holds it, nobody waits
        if (!g) co_return std::vector<long>{-1};
        co_return std::vector<long>{(*g)->overlaps, (*g)->inside, (*g)->entries, cancelled};
    }(tasks));
    REQUIRE(r.size() == 4);
    REQUIRE(r[0] == 0);
    REQUIRE(r[1] == 0);
    REQUIRE(r[2] > 0);
    REQUIRE(r[3] > 0);
}

TEST_CASE("sync_stress.stress: Semaphore under 10,000 tasks aborted at random: permits conserved", "[stress]") {
    const int tasks = 10000;
    static constexpr size_t kPermits = 5;
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([](int tasks) -> braid::Task<std::vector<long>> {
        auto sem = std::make_shared<braid::Semaphore>(kPermits);
        auto inside = std::make_shared<std::atomic<long>>(0);
        auto most = std::make_shared<std::atomic<long>>(0);
        std::vector<braid::JoinHandle<void>> hs;
        hs.reserve(size_t(tasks));
        Rng rng(5);
        for (int t = 0; t < tasks; ++t) {
            hs.push_back(braid::spawn([](auto sem, auto inside, auto most, uint64_t seed) -> braid::Task<> {
                Rng rng(seed);
                for (int k = 0; k < 10; ++k) {
                    size_t n = 1 + rng.below(3);
                    std::optional<braid::SemaphorePermit> p;
                    std::optional<braid::OwnedSemaphorePermit> op;
                    if (rng.below(2)) p = co_await sem->acquire_many(n);
                    else op = co_await braid::acquire_owned(sem, n);
                    long now = inside->fetch_add(long(n)) + long(n);
                    struct Leave {
                        std::atomic<long>* in;
                        long n;
                        ~Leave() { in->fetch_sub(n); }  // before the permit goes back, also when aborted
                    } leave{inside.get(), long(n)};
                    long m = most->load();
                    while (now > m && !most->compare_exchange_weak(m, now)) {
                    }
                    if (rng.below(3) == 0) co_await braid::yield_now();
                }
            }(sem, inside, most, uint64_t(t))));
            if (rng.below(8) == 0) co_await braid::yield_now();
            if (rng.below(3) == 0) hs[size_t(rng.below(uint64_t(t + 1)))].abort();
        }
        long cancelled = 0;
        for (auto& h : hs) {
            try {
                co_await h;
            } catch (const braid::TaskCancelled&) {
                ++cancelled;
            }
        }
        co_return std::vector<long>{long(sem->available_permits()), most->load(), inside->load(), cancelled};
    }(tasks));
    REQUIRE(r[0] == long(kPermits));  // every permit came back
    REQUIRE(r[1] <= long(kPermits));  // never more inside than permits
    REQUIRE(r[2] == 0);
    REQUIRE(r[3] > 0);
}

TEST_CASE("sync_stress.stress: watch receivers never see an older version after a newer one", "[stress]") {
    const uint64_t n = 200000 / kSyncScale;
    static constexpr int kReceivers = 4;
    auto rt = braid_test::runtime(2);
    auto r = rt.block_on([](uint64_t n) -> braid::Task<std::vector<uint64_t>> {
        auto [tx, rx] = braid::watch::channel<uint64_t>(0);
        std::vector<braid::JoinHandle<std::array<uint64_t, 2>>> hs;
        for (int i = 0; i < kReceivers; ++i)
            hs.push_back(braid::spawn(
                [](braid::watch::Receiver<uint64_t> rx, int i) -> braid::Task<std::array<uint64_t, 2>> {
                    Rng rng(uint64_t(i) + 11);
                    uint64_t last = 0, backwards = 0;
                    for (;;) {
                        bool more;
                        if (rng.below(3) == 0) {
                            auto t = co_await braid::timeout(std::chrono::microseconds(rng.below(30)), rx.changed());
                            if (!t) continue;  // cancelled: nothing consumed
                            more = *t;
                        } else {
                            more = co_await rx.changed();
                        }
                        uint64_t v = *rx.borrow_and_update();
                        if (v < last) ++backwards;
                        last = v;
                        if (!more) break;
                    }
                    co_return std::array<uint64_t, 2>{last, backwards};
                },
                rx, i));
        { auto mine = std::move(rx); }
        Rng rng(1);
        for (uint64_t v = 1; v <= n; ++v) {
            if (rng.below(2)) tx.send(v);
            else tx.send_modify([v](uint64_t& x) { x = v; });
            if (rng.below(8) == 0) co_await braid::yield_now();
        }
        { auto gone = std::move(tx); }
        std::vector<uint64_t> out;
        for (auto& h : hs) {
            auto a = co_await h;
            out.push_back(a[0]);
            out.push_back(a[1]);
        }
        co_return out;
    }(n));
    for (int i = 0; i < kReceivers; ++i) {
        REQUIRE(r[size_t(2 * i)] == n);   // ended on the last value
        REQUIRE(r[size_t(2 * i + 1)] == 0);  // never went back
    }
}

}  // namespace test_sync_stress
