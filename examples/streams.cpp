// Streams in braid, end to end: async generators, a pipeline over a channel,
// a keyed merge (StreamMap) of several sources, concurrent work with
// buffer_unordered, a log shipper with chunks_timeout, and the same stream
// consumed from C through braid/stream.h.
//
// Run it: ./build/examples/streams
#include <braid/braid.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace bs = braid::stream;

namespace {

// A sensor: a reading every `period`, `n` of them.
braid::Stream<double> sensor(double base, std::chrono::milliseconds period, int n) {
    for (int i = 0; i < n; ++i) {
        co_await braid::sleep(period);
        co_yield base + i * 0.5;
    }
}

// A slow lookup: an awaitable per item, run several at once below.
braid::Task<std::string> lookup(int id) {
    co_await braid::sleep(std::chrono::milliseconds(5 * (id % 4)));
    co_return "user-" + std::to_string(id);
}

braid::Task<> keyed_merge() {
    std::printf("== StreamMap: readings tagged with their sensor\n");
    bs::StreamMap<std::string, braid::Stream<double>> sensors;
    sensors.insert("kitchen", sensor(20.0, 4ms, 3));
    sensors.insert("garage", sensor(8.0, 7ms, 2));
    sensors.insert("attic", sensor(30.0, 5ms, 2));
    while (auto reading = co_await sensors.next())
        std::printf("  %-8s %.1f\n", reading->first.c_str(), reading->second);
}

braid::Task<> concurrent_lookups() {
    std::printf("== buffer_unordered: 8 lookups, 3 at a time, results as they finish\n");
    auto names = bs::iter(std::views::iota(0, 8)) | bs::map([](int id) { return lookup(id); })
               | bs::buffer_unordered(3);
    while (auto name = co_await names.next()) std::printf("  %s\n", name->c_str());
}

braid::Task<> log_shipper() {
    std::printf("== chunks_timeout: a log shipper (batches of up to 5, or every 15 ms)\n");
    auto [log, lines] = braid::mpsc::channel<std::string>(64);
    braid::spawn([](braid::mpsc::Sender<std::string> log) -> braid::Task<> {
        for (int i = 0; i < 12; ++i) {
            co_await log.send("request " + std::to_string(i) + " served");
            if (i % 6 == 5) co_await braid::sleep(30ms);  // a quiet moment
        }
    }, std::move(log)).detach();
    auto batches = bs::from_receiver(std::move(lines)) | bs::chunks_timeout(5, 15ms) | bs::enumerate();
    while (auto b = co_await batches.next()) {
        std::printf("  batch %zu: %zu line(s):", b->first, b->second.size());
        for (auto& l : b->second) std::printf(" [%s]", l.c_str());
        std::printf("\n");
    }
}

// ---- the same kind of stream, consumed from C ------------------------------------------
struct CConsumer {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    double total = 0;
    static void on_item(void* ud, int status, void* item) {
        auto* c = static_cast<CConsumer*>(ud);
        if (item) {  // valid during this call only
            c->total += *static_cast<double*>(item);
            return;
        }
        std::lock_guard<std::mutex> g(c->mu);
        std::printf("  C: stream ended with %s\n", braid_err_name(status));
        c->done = true;
        c->cv.notify_all();
    }
};

void consumed_from_c(braid::Runtime& rt) {
    std::printf("== braid_stream_for_each: a C++ pipeline driven by C callbacks\n");
    braid_stream* s = rt.block_on([]() -> braid::Task<braid_stream*> {
        co_return bs::into_c(sensor(1.0, 1ms, 10) | bs::map([](double x) { return x * 2; }));
    }());
    CConsumer c;
    braid_stream_for_each(nullptr, rt.native_handle(), s, &CConsumer::on_item, &c);
    {
        std::unique_lock<std::mutex> g(c.mu);
        c.cv.wait(g, [&] { return c.done; });
    }
    std::printf("  C: total %.1f\n", c.total);
    braid_stream_free(s);
}

}  // namespace

int main() {
    auto rt = braid::Runtime::builder().worker_threads(2).build();
    rt.block_on([]() -> braid::Task<> {
        co_await keyed_merge();
        co_await concurrent_lookups();
        co_await log_shipper();
    }());
    consumed_from_c(rt);
    return 0;
}
