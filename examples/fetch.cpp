// fetch_data from the Tokio cheat sheet, over braid's TCP: an HTTP/1.1 GET
// with a time limit.  To stay self-contained (no network), the example
// starts a tiny HTTP server on loopback first and fetches from it.
//
//   ./build/examples/fetch
//
// fetch_data resolves the host (braid::net::lookup_host), connects, sends
// the request, reads the response to the end (Connection: close) and
// returns the body; braid::timeout bounds the whole of it.
#include <braid/braid.hpp>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

struct Url {
    std::string host;
    uint16_t port = 80;
    std::string path = "/";
};

// "http://host:port/path" (plain HTTP only).
Url parse_url(const std::string& url) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) throw braid::Error(BRAID_EINVAL, "only http:// URLs: " + url);
    Url u;
    std::string rest = url.substr(scheme.size());
    std::size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    if (slash != std::string::npos) u.path = rest.substr(slash);
    std::size_t colon = authority.rfind(':');
    if (colon != std::string::npos) {
        u.host = authority.substr(0, colon);
        u.port = uint16_t(std::stoi(authority.substr(colon + 1)));
    } else {
        u.host = authority;
    }
    return u;
}

// GET url; throws braid::IoError on network errors, braid::Error on a bad
// status.
braid::Task<std::string> fetch_data(std::string url) {
    Url u = parse_url(url);
    auto stream = co_await braid::net::TcpStream::connect(u.host, u.port);
    std::string request = "GET " + u.path + " HTTP/1.1\r\nHost: " + u.host + "\r\nConnection: close\r\n\r\n";
    co_await stream.write_all(request);
    std::string response = co_await braid::io::read_to_string(stream);
    std::size_t head_end = response.find("\r\n\r\n");
    if (response.rfind("HTTP/1.1 200", 0) != 0 || head_end == std::string::npos)
        throw braid::Error(BRAID_EIO, "unexpected response: " + response.substr(0, response.find("\r\n")));
    co_return response.substr(head_end + 4);
}

// A one-route HTTP/1.1 server: answers every request with `body`.
braid::Task<> tiny_http_server(braid::net::TcpListener listener, std::string body) {
    for (;;) {
        auto [conn, peer] = co_await listener.accept();
        braid::spawn([](braid::net::TcpStream c, std::string body) -> braid::Task<> {
            braid::io::BufReader reader(std::move(c));
            std::string line;
            // The request line and headers, up to the empty line.
            // (Each read is a statement of its own: g++ 12.2 miscompiles a
            // co_await in an if or while condition, docs/compilers.md.)
            for (;;) {
                std::size_t n = co_await reader.read_line(line);
                if (n == 0 || line == "\r\n") break;
                line.clear();
            }
            std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
            co_await reader.get_ref().write_all(reply);
            reader.get_ref().shutdown_write();
        }(std::move(conn), body)).detach();
    }
}

braid::Task<int> async_main() {
    auto listener = braid::net::TcpListener::bind("127.0.0.1:0");
    std::string url = "http://localhost:" + std::to_string(listener.local_addr().port()) + "/hello";
    auto server = braid::spawn(tiny_http_server(std::move(listener), "Hello from braid's HTTP server!\n"));

    std::optional<std::string> body = co_await braid::timeout(5s, fetch_data(url));
    if (!body) {
        std::printf("GET %s: timed out\n", url.c_str());
        co_return 1;
    }
    std::printf("GET %s -> %s", url.c_str(), body->c_str());

    // The same call against a port where nothing listens fails cleanly.
    try {
        co_await braid::timeout(5s, fetch_data("http://127.0.0.1:1/"));
    } catch (const braid::IoError& e) {
        std::printf("GET http://127.0.0.1:1/ -> %s\n", e.what());
    }
    server.abort();
    co_return 0;
}

}  // namespace

int main() {
    try {
        return braid::run(async_main());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fetch: %s\n", e.what());
        return 1;
    }
}
