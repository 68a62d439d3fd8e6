// Conformance: tokio/tests/tcp_accept.rs (Tokio 1.24), ported from what each
// case asserts.  #[tokio::test] cases run on a current-thread runtime.
// Tokio's bind takes anything that converts to socket addresses; braid's
// TcpListener::bind takes a SocketAddr or its text, and braid has no IpAddr:
// an (ip, port) tuple is SocketAddr(ip_text, port) in both tuple cases
// (ip_port_tuple takes its IP from a parsed address).  TrackPolls (a stream
// over poll_accept) is a hand-written braid stream over the C ABI's
// braid_tcp_listener_poll_accept; accept_many's hand-polled accept futures
// are that poll function driven through poll_fn from 50 tasks.  A host name
// ("localhost:0", host_str) is TcpListener::bind_host, which resolves it and
// so is awaited; the bind of each case is a task for that reason.
//
// Not applicable: none.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace conformance_tcp_accept {

using braid::net::SocketAddr;
using braid::net::TcpListener;
using braid::net::TcpStream;

namespace {

// test_accept!: a connection accepted on a spawned task; the client's local
// address is the server side's peer address.
void test_accept(braid::Task<TcpListener> (*bind)()) {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([](braid::Task<TcpListener> (*bind)()) -> braid::Task<> {
        TcpListener listener = co_await bind();
        SocketAddr addr = listener.local_addr();

        auto [tx, rx] = braid::oneshot::channel<TcpStream>();
        auto server = braid::spawn([](TcpListener l, braid::oneshot::Sender<TcpStream> tx) -> braid::Task<> {
            auto [socket, peer] = co_await l.accept();
            EXPECT(!tx.send(std::move(socket)).has_value());
        }, std::move(listener), std::move(tx));

        TcpStream cli = co_await TcpStream::connect(addr);
        TcpStream srv = co_await std::move(rx);

        EXPECT(cli.local_addr() == srv.peer_addr());
        co_await server;
    }(bind));
}

}  // namespace

TEST_CASE("tcp_accept.ip_str") {
    test_accept([]() -> braid::Task<TcpListener> { co_return TcpListener::bind("127.0.0.1:0"); });
}

TEST_CASE("tcp_accept.host_str") {
    test_accept([]() -> braid::Task<TcpListener> { co_return co_await TcpListener::bind_host("localhost:0"); });
}

TEST_CASE("tcp_accept.socket_addr") {
    test_accept([]() -> braid::Task<TcpListener> { co_return TcpListener::bind(SocketAddr::parse("127.0.0.1:0")); });
}

TEST_CASE("tcp_accept.str_port_tuple") {
    test_accept([]() -> braid::Task<TcpListener> { co_return TcpListener::bind(SocketAddr("127.0.0.1", 0)); });
}

TEST_CASE("tcp_accept.ip_port_tuple") {
    test_accept([]() -> braid::Task<TcpListener> {
        co_return TcpListener::bind(SocketAddr(SocketAddr::parse("127.0.0.1:9").ip(), 0));
    });
}

namespace {

// Tokio's TrackPolls: the listener's accepts as a stream, counting polls.
class TrackPolls : public braid::stream::StreamBase<TrackPolls> {
public:
    using item_type = TcpStream;
    TrackPolls(std::shared_ptr<std::atomic<int>> npolls, TcpListener& l) : npolls_(std::move(npolls)), l_(&l) {}
    TrackPolls(TrackPolls&& o) noexcept
        : npolls_(std::move(o.npolls_)), l_(o.l_), registered_(std::exchange(o.registered_, nullptr)) {}
    ~TrackPolls() { detach(); }

    braid::stream::Poll<TcpStream> poll_next(braid::detail::Context& cx) {
        npolls_->fetch_add(1);
        braid_tcp_stream* s = nullptr;
        int rc = braid_tcp_listener_poll_accept(l_->native_handle(), &s, nullptr, nullptr, cx.wake_fn, cx.wake_data);
        if (rc == BRAID_PENDING) {
            registered_ = cx.wake_data;
            return braid::stream::Poll<TcpStream>::pending();
        }
        detach();
        if (rc < 0) throw braid::IoError(rc, braid_last_os_error(), "poll_accept");
        return {true, TcpStream(s)};
    }
    void detach() noexcept {
        if (registered_)
            braid_tcp_listener_poll_accept(l_->native_handle(), nullptr, nullptr, nullptr, nullptr,
                                           std::exchange(registered_, nullptr));
    }

private:
    std::shared_ptr<std::atomic<int>> npolls_;
    TcpListener* l_;
    void* registered_ = nullptr;
};

}  // namespace

TEST_CASE("tcp_accept.no_extra_poll") {
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        TcpListener listener = TcpListener::bind("127.0.0.1:0");
        SocketAddr addr = listener.local_addr();

        auto [tx, rx] = braid::oneshot::channel<std::shared_ptr<std::atomic<int>>>();
        auto [accepted_tx, accepted_rx] = braid::mpsc::unbounded_channel<int>();

        auto acceptor = braid::spawn(
            [](TcpListener listener, braid::oneshot::Sender<std::shared_ptr<std::atomic<int>>> tx,
               braid::mpsc::UnboundedSender<int> accepted_tx) -> braid::Task<> {
                auto npolls = std::make_shared<std::atomic<int>>(0);
                TrackPolls incoming(npolls, listener);
                EXPECT(!tx.send(npolls).has_value());
                while (co_await incoming.next()) accepted_tx.send(1);
            },
            std::move(listener), std::move(tx), std::move(accepted_tx));

        auto npolls = co_await std::move(rx);
        co_await braid::yield_now();

        // polled exactly once: the first poll
        EXPECT(npolls->load() == 1);

        TcpStream s = co_await TcpStream::connect(addr);
        EXPECT(co_await accepted_rx.recv());

        // twice more: once to yield the connection, once to find nothing
        EXPECT(npolls->load() == 1 + 2);
        acceptor.abort();
    }());
}

TEST_CASE("tcp_accept.accept_many") {
    constexpr int N = 50;
    auto rt = braid_test::current_thread_runtime();
    rt.block_on([]() -> braid::Task<> {
        auto listener = std::make_shared<TcpListener>(TcpListener::bind("127.0.0.1:0"));
        SocketAddr addr = listener->local_addr();
        auto connected = std::make_shared<std::atomic<bool>>(false);

        auto [pending_tx, pending_rx] = braid::mpsc::unbounded_channel<int>();
        auto [notified_tx, notified_rx] = braid::mpsc::unbounded_channel<int>();

        std::vector<braid::JoinHandle<void>> tasks;
        for (int i = 0; i < N; ++i) {
            tasks.push_back(braid::spawn(
                [](std::shared_ptr<TcpListener> listener, std::shared_ptr<std::atomic<bool>> connected,
                   braid::mpsc::UnboundedSender<int> pending_tx, braid::mpsc::UnboundedSender<int> notified_tx) -> braid::Task<> {
                    bool polled = false;
                    void* accept_registration = nullptr;
                    // The task's own waker stays registered for the accept
                    // (polled once, then left pending) until the poll that
                    // sees `connected`.
                    auto poll = [&](braid_wake_fn w, void* d) -> int {
                        braid_tcp_listener* l = listener->native_handle();
                        if (!w) return BRAID_PENDING;  // PollFn's unregister: the accept's is below
                        if (!polled) {
                            polled = true;
                            braid_tcp_stream* s = nullptr;
                            int rc = braid_tcp_listener_poll_accept(l, &s, nullptr, nullptr, w, d);
                            EXPECT_ANYWHERE(rc == BRAID_PENDING);
                            accept_registration = d;
                            pending_tx.send(1);
                            return BRAID_PENDING;
                        }
                        if (connected->load()) {
                            notified_tx.send(1);
                            braid_tcp_listener_poll_accept(l, nullptr, nullptr, nullptr, nullptr, accept_registration);
                            return BRAID_OK;
                        }
                        return BRAID_PENDING;
                    };
                    co_await braid_test::c_poll(std::ref(poll));
                    pending_tx.send(1);
                },
                listener, connected, pending_tx, notified_tx));
        }

        // every task polled once
        for (int i = 0; i < N; ++i) EXPECT(co_await pending_rx.recv());

        // one connection wakes them all
        connected->store(true);
        TcpStream sock = co_await TcpStream::connect(addr);

        for (int i = 0; i < N; ++i) EXPECT(co_await notified_rx.recv());
        for (auto& t : tasks) co_await t;
    }());
}

}  // namespace conformance_tcp_accept
