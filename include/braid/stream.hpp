// Streams: values that arrive over time (tokio-stream, async-stream and
// futures' StreamExt, in braid).  See docs/streams.md.
//
//   braid::Stream<uint32_t> countdown(uint32_t from) {            // an async generator
//       for (uint32_t i = from + 1; i-- > 0;) { co_yield i; co_await braid::sleep(1s); }
//   }
//
//   auto s = braid::stream::iter(std::vector{1, 2, 3});
//   while (auto v = co_await s.next()) std::printf("%d\n", *v);
//
//   namespace bs = braid::stream;
//   uint64_t total = co_await (numbers() | bs::map([](uint64_t x) { return x * 3; })
//                                        | bs::filter([](uint64_t x) { return x % 2 == 0; })
//                                        | bs::fold(uint64_t(0), std::plus<>()));
//
// Composition is one style everywhere: sources are functions (iter, once,
// from_receiver, ...), everything else is applied with `|`, and consumers
// (fold, collect, count, ...) at the end of a pipe are awaitables.
#pragma once

#include <braid/stream/adapters.hpp>
#include <braid/stream/buffered.hpp>
#include <braid/stream/c.hpp>
#include <braid/stream/consumers.hpp>
#include <braid/stream/core.hpp>
#include <braid/stream/generator.hpp>
#include <braid/stream/merge.hpp>
#include <braid/stream/sources.hpp>
#include <braid/stream/time.hpp>
#include <braid/stream/wrappers.hpp>
