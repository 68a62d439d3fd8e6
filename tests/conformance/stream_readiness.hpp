// The cases tokio/tests/tcp_stream.rs and uds_stream.rs share, written once
// for TcpStream and UnixStream: readiness polled by hand (ReadyProbe on the
// C ABI's braid_byte_stream_poll_ready), readable()/writable()/ready(), and
// try_read / try_read_vectored / try_read_buf / try_write /
// try_write_vectored.  Each takes the connected
// (client, server) pair its file makes.  See tcp_stream.cpp for how the
// ports differ from Tokio (initial readiness, short writes).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io_support.hpp"
#include "support.hpp"

namespace braid_test {

namespace readiness_cases {
constexpr std::string_view DATA = "this is some data to write to the socket";
inline braid::io::ConstBuffer data() { return braid::io::ConstBuffer(DATA.data(), DATA.size()); }
}  // namespace readiness_cases

namespace readiness_cases {
// The opening both try_read cases share: the server's readable() is pending,
// the client writes DATA, the server's waker runs.
template <class S>
braid::Task<> first_write(S& client, S& server) {
    settle_readable(server);
    // Track the server receiving data.
    auto readable = probe(server, BRAID_IO_READABLE);
    EXPECT(readable.poll() == BRAID_PENDING);
    // Write data.
    co_await client.writable();
    EXPECT(client.try_write(data()) == std::optional<std::size_t>(DATA.size()));
    // The task is notified.
    co_await woken(readable);
}

// Fills the client's write buffer with `write` (a try_write form), each
// write checked to find the socket still writable, appending what went to
// `written`; then writable() is pending.
template <class S, class W>
void fill_write_buffer(S& client, std::string& written, W write) {
    bool short_write = false;
    for (;;) {
        auto writable = probe(client, BRAID_IO_WRITABLE);
        int rc = writable.poll();
        if (rc == BRAID_PENDING && short_write) break;  // Differs: a short write forgot it
        EXPECT(rc == 0);  // still ready
        std::optional<std::size_t> n = write();
        if (!n) break;
        written.append(DATA.substr(0, *n));
        short_write = *n < DATA.size();
    }
    // Write buffer full.
    auto writable = probe(client, BRAID_IO_WRITABLE);
    EXPECT(writable.poll() == BRAID_PENDING);
}
}  // namespace readiness_cases

template <class S>
braid::Task<> try_read_write(std::pair<S, S> pair) {
    using namespace readiness_cases;
    auto& [client, server] = pair;
    std::string written(DATA);
    co_await first_write(client, server);

    // Fill the write buffer, then drain the socket from the server end.
    fill_write_buffer(client, written, [&] { return client.try_write(data()); });
    EXPECT(co_await drain(server, written.size()) == written);

    // Fill the write buffer using vectored I/O.
    std::vector<braid::io::ConstBuffer> data_bufs;
    for (std::size_t at = 0; at < DATA.size(); at += 10)
        data_bufs.emplace_back(DATA.data() + at, std::min<std::size_t>(10, DATA.size() - at));
    written.clear();
    // The room the drain made comes back as an event: wait for it.
    co_await client.writable();
    fill_write_buffer(client, written, [&] { return client.try_write_vectored(data_bufs); });
    EXPECT(co_await drain(server, written.size(), true) == written);

    // Now, we listen for shutdown.
    client = S();
    co_await until_read_closed(server);
}

template <class S>
braid::Task<> try_read_buf(std::pair<S, S> pair) {
    using namespace readiness_cases;
    auto& [client, server] = pair;
    std::string written(DATA);
    co_await first_write(client, server);
    fill_write_buffer(client, written, [&] { return client.try_write(data()); });

    // Drain into a growing buffer's spare room.
    std::vector<char> read;
    read.reserve(written.size());
    std::size_t i = 0;
    while (i < written.size()) {
        co_await server.readable();
        if (auto n = server.try_read_buf(read)) i += *n;
        EXPECT(read.size() == i);  // grown by what was read, nothing else
    }
    EXPECT(std::string(read.begin(), read.end()) == written);

    client = S();
    co_await until_read_closed(server);
}

template <class S>
braid::Task<> poll_read_ready(std::pair<S, S> pair) {
    using namespace readiness_cases;
    auto& [client, server] = pair;
    settle_readable(client);

    // Initial state: not readable.
    auto ready = probe(client, BRAID_IO_READABLE);
    EXPECT(ready.poll() == BRAID_PENDING);

    // There is data in the buffer: readable.
    co_await server.write_all(braid::io::ConstBuffer("ping", 4));
    co_await woken(ready);
    EXPECT(ready.poll() == 0);

    // Readable until a read finds nothing.
    char buf[4];
    EXPECT(client.try_read(braid::io::MutableBuffer(buf, 2)) == std::optional<std::size_t>(2));
    EXPECT(ready.poll() == 0);
    EXPECT(read_until_pending(client) == 2);
    EXPECT(ready.poll() == BRAID_PENDING);

    // Detect the read closed event.
    server = S();
    co_await woken(ready);
    EXPECT(ready.poll() == 0);
    EXPECT((ready.bits() & BRAID_IO_READ_CLOSED) != 0);
}

template <class S>
braid::Task<> poll_write_ready(std::pair<S, S> pair) {
    using namespace readiness_cases;
    auto& [client, server] = pair;

    // Initial state: writable.
    auto ready = probe(client, BRAID_IO_WRITABLE);
    EXPECT(ready.poll() == 0);

    // No space to write: not writable.
    EXPECT(write_until_pending(client) > 0);
    EXPECT(ready.poll() == BRAID_PENDING);

    // Detect the write closed event (the peer goes with unread data:
    // the connection is reset).
    server = S();
    co_await woken(ready);
    EXPECT(ready.poll() == 0);
    EXPECT((ready.bits() & BRAID_IO_WRITE_CLOSED) != 0);
}

}  // namespace braid_test
