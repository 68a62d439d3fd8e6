// A TCP echo server on braid: every connection gets a task that writes back
// what it reads.  It keeps serving when it runs out of file descriptors
// (try it under `ulimit -n 64` with hundreds of clients).  Ctrl-C stops
// accepting and exits.
//
//   ./build/examples/echo_server                 # listens on 127.0.0.1:8080
//   ./build/examples/echo_server [::1]:9000      # any IPv4/IPv6 address:port
//   ./build/examples/echo_server 127.0.0.1:0 --self-test   # talks to itself, exits 0 when the echo was right
//
// Then, from another terminal:  nc 127.0.0.1 8080   (type a line: it comes back)
// How to run it and talk to it: docs/io.md, "examples/echo_server".
#include <braid/braid.hpp>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::atomic<uint64_t> g_bytes{0};

// Echoes one connection until the peer closes it.  Whatever goes wrong with
// this connection (a reset, a write to a peer that left) ends this
// connection only.
braid::Task<> echo(braid::net::TcpStream conn, braid::net::SocketAddr peer) {
    std::vector<char> buf(16 * 1024);
    try {
        conn.set_nodelay(true);
        for (;;) {
            std::size_t n = co_await conn.read(buf);
            if (n == 0) break;  // the client closed its side
            co_await conn.write_all(braid::io::ConstBuffer(buf.data(), n));
            g_bytes += n;
        }
        std::printf("%s: closed\n", peer.to_string().c_str());
    } catch (const braid::IoError& e) {
        std::printf("%s: %s\n", peer.to_string().c_str(), e.what());  // a reset by the peer, say
    }
}

// One accept, its failure as a value (no co_await inside a try inside the
// loop below: g++ 12 mishandles that shape, see docs/compilers.md).
struct Accepted {
    braid::net::TcpStream conn;
    braid::net::SocketAddr peer;
    int error = 0;  // a BRAID_E* code
    std::string what;
};
braid::Task<Accepted> accept_one(braid::net::TcpListener& listener) {
    try {
        auto [conn, peer] = co_await listener.accept();
        co_return Accepted{std::move(conn), peer, 0, {}};
    } catch (const braid::IoError& e) {
        co_return Accepted{{}, {}, e.code(), e.what()};
    }
}

// Accepts until cancelled (by the select in serve).  An accept error does
// not end the server: running out of file descriptors (BRAID_EMFILE) or
// memory passes as connections close, so log it, back off briefly and
// accept again (the connection waits in the backlog meanwhile).  Only a
// closed listener or a stopping runtime ends the loop.
braid::Task<> accept_loop(braid::net::TcpListener& listener) {
    using namespace std::chrono_literals;
    for (;;) {
        Accepted a = co_await accept_one(listener);
        if (a.error == BRAID_ECLOSED || a.error == BRAID_ESHUTDOWN) co_return;
        if (a.error) {
            std::printf("accept failed (%s: %s); retrying in 100 ms\n", braid_err_name(a.error), a.what.c_str());
            co_await braid::sleep(100ms);
            continue;
        }
        std::printf("%s: connected\n", a.peer.to_string().c_str());
        braid::spawn(echo(std::move(a.conn), a.peer)).detach();
    }
}

braid::Task<int> serve(std::string addr) {
    auto listener = braid::net::TcpListener::bind(addr);
    std::printf("echo server listening on %s (Ctrl-C to stop)\n", listener.local_addr().to_string().c_str());
    std::fflush(stdout);
    co_await braid::select(accept_loop(listener), braid::signal::ctrl_c());
    std::printf("stopping; %llu bytes echoed\n", (unsigned long long)g_bytes.load());
    co_return 0;
}

// --self-test: the server and a client in one process.
braid::Task<int> self_test(std::string addr) {
    auto listener = braid::net::TcpListener::bind(addr);
    auto local = listener.local_addr();
    auto server = braid::spawn([](braid::net::TcpListener l) -> braid::Task<> {
        auto [conn, peer] = co_await l.accept();
        co_await echo(std::move(conn), peer);
    }(std::move(listener)));
    auto client = co_await braid::net::TcpStream::connect(local);
    std::string msg = "hello, echo\n";
    co_await client.write_all(msg);
    std::string back(msg.size(), '\0');
    co_await client.read_exact(back);
    client.shutdown_write();
    co_await server;
    std::printf("sent %zu bytes, got back \"%s\"\n", msg.size(), back.substr(0, back.size() - 1).c_str());
    co_return back == msg ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string addr = "127.0.0.1:8080";
    bool test = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--self-test")) test = true;
        else addr = argv[i];
    }
    try {
        return braid::run(test ? self_test(addr) : serve(addr));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_server: %s\n", e.what());
        return 1;
    }
}
