// Serves braid's runtime metrics over HTTP, on braid's own TCP: Prometheus
// text at /metrics, JSON at /metrics.json (see docs/observability.md).
// Point a Prometheus scrape job at it, or:
//
//   ./build/examples/metrics_server                 # listens on 127.0.0.1:9464
//   ./build/examples/metrics_server 127.0.0.1:0     # any free port (printed)
//   curl http://127.0.0.1:9464/metrics
//   curl http://127.0.0.1:9464/metrics.json
//
// A small HTTP/1.1 server: one request per connection (Connection: close),
// GET only.  Ctrl-C (or SIGTERM) stops it.
#include <braid/braid.hpp>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

namespace {

std::string response(int status, const char* reason, const char* type, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// The answer to a request line ("GET /metrics HTTP/1.1").
std::string answer(const std::string& request_line, const braid::Handle& rt) {
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos)
        return response(400, "Bad Request", "text/plain", "bad request\n");
    std::string method = request_line.substr(0, sp1);
    std::string path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (method != "GET") return response(405, "Method Not Allowed", "text/plain", "GET only\n");
    if (path == "/metrics")
        return response(200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                        rt.metrics_text(braid::MetricsFormat::Prometheus));
    if (path == "/metrics.json")
        return response(200, "OK", "application/json", rt.metrics_text(braid::MetricsFormat::Json));
    return response(404, "Not Found", "text/plain", "try /metrics or /metrics.json\n");
}

// One connection: reads the request head, writes the answer, closes.
braid::Task<> serve_one(braid::net::TcpStream conn, braid::Handle rt) {
    std::string head;
    std::vector<char> buf(4096);
    try {
        while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16 * 1024) {
            std::size_t n = co_await conn.read(buf);
            if (n == 0) co_return;  // the client left before asking
            head.append(buf.data(), n);
        }
        co_await conn.write_all(answer(head.substr(0, head.find("\r\n")), rt));
        conn.shutdown_write();
    } catch (const braid::IoError& e) {
        std::fprintf(stderr, "connection: %s\n", e.what());
    }
}

braid::Task<> accept_loop(braid::net::TcpListener& listener) {
    auto rt = braid::Handle::current();
    for (;;) {
        auto [conn, peer] = co_await listener.accept();
        braid::spawn(serve_one(std::move(conn), rt.clone())).detach();
    }
}

braid::Task<int> serve(std::string addr) {
    auto listener = braid::net::TcpListener::bind(addr);
    std::printf("metrics at http://%s/metrics and /metrics.json\n", listener.local_addr().to_string().c_str());
    std::fflush(stdout);
    braid::signal::Signal term(SIGTERM), interrupt(SIGINT);  // listening from here on
    co_await braid::select(accept_loop(listener), term.recv(), interrupt.recv());
    std::printf("stopping\n");
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string addr = argc > 1 ? argv[1] : "127.0.0.1:9464";
    try {
        return braid::run(serve(addr));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "metrics_server: %s\n", e.what());
        return 1;
    }
}
