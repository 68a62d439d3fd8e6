// tokio-stream 0.1.9, tests/watch.rs: a watch channel as a stream
// (from_watch: the current value, then every new one) gives a value sent
// once only once, even when it was sent before the stream was first polled.
#include <catch2/catch.hpp>
#include <braid/stream.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "support.hpp"

namespace conformance_stream_watch {

namespace bs = braid::stream;

TEST_CASE("stream_watch.message_not_twice") {
    auto rt = braid::Runtime::builder().current_thread().build();
    int goodbyes = rt.block_on([]() -> braid::Task<int> {
        auto [tx, rx] = braid::watch::channel<std::string>("hello");

        auto counter = std::make_shared<std::atomic<int>>(0);
        auto stream = bs::from_watch(std::move(rx)) | bs::map([counter](std::string payload) {
                          if (payload == "goodbye") ++*counter;
                          EXPECT(counter->load() < 2);  // too many goodbyes
                          return payload;
                      });

        auto task = braid::spawn([](auto stream) -> braid::Task<> {
            while (auto v = co_await stream.next()) {
            }
        }(std::move(stream)));

        // send goodbye just once
        EXPECT(!tx.send("goodbye"));

        { auto gone = std::move(tx); }
        co_await task;
        co_return counter->load();
    }());
    REQUIRE(goodbyes == 1);
}

}  // namespace conformance_stream_watch
