// BufReader and BufWriter over readers and writers that take or give
// fuzzed amounts (sometimes suspending first), driven by fuzzed operations.
//
// Reader: read, read_line, read_until, fill_buf + consume in any order, with
// any buffer capacity, must hand out exactly the source bytes, in order,
// each once, and stop at end of file; lines() must give the source split at
// "\n" without "\n" / "\r\n".  Writer: write, write_all and flush with any
// capacity must deliver exactly the bytes accepted, in order, once flushed,
// never buffering more than the capacity.
#include <braid/io/buf_reader.hpp>
#include <braid/io/buf_writer.hpp>

#include <vector>

#include "fuzz_support.hpp"

using braid_fuzz::Input;
namespace bio = braid::io;

namespace {

struct Script {
    std::vector<uint8_t> sizes;  // chunk sizes the inner side uses (cycled; 0 stands for 1)
    uint64_t yields = 0;         // bit k: suspend before inner operation k
    std::size_t k = 0;
    std::size_t next() {
        std::size_t n = sizes.empty() ? SIZE_MAX : std::max<std::size_t>(1, sizes[k % sizes.size()]);
        return n;
    }
    bool yield_now() { return (yields >> (k % 64)) & 1; }
};

struct SourceReader {
    std::string_view data;
    Script* s;
    std::size_t at = 0;
    braid::Task<std::size_t> read(bio::MutableBuffer b) {
        FUZZ_CHECK(b.size > 0);
        if (s->yield_now()) co_await braid::yield_now();
        std::size_t n = std::min({s->next(), b.size, data.size() - at});
        ++s->k;
        std::memcpy(b.data, data.data() + at, n);
        at += n;
        co_return n;
    }
};

struct SinkWriter {
    std::string* out;
    Script* s;
    int* flushes;
    braid::Task<std::size_t> write(bio::ConstBuffer b) {
        if (s->yield_now()) co_await braid::yield_now();
        std::size_t n = std::min(s->next(), b.size);
        ++s->k;
        out->append(static_cast<const char*>(b.data), n);
        co_return n;
    }
    braid::Task<void> flush() {
        ++*flushes;
        co_return;
    }
    braid::Task<void> shutdown() { co_return; }
};

braid::Task<void> reader_ops(std::string_view data, Script* s, std::size_t cap, Input* in) {
    bio::BufReader r(SourceReader{data, s}, cap);
    std::string got;
    bool eof = false;
    while (!eof) {
        std::size_t before = got.size();
        switch (in->below(5)) {
            case 0: {
                std::string buf(in->range(1, 40), '\0');
                std::size_t n = co_await r.read(bio::MutableBuffer(buf.data(), buf.size()));
                FUZZ_CHECK(n <= buf.size());
                got.append(buf.data(), n);
                eof = n == 0;
                break;
            }
            case 1: {
                std::string line = "prefix";
                std::size_t n = co_await r.read_line(line);
                FUZZ_CHECK(line.size() == 6 + n && line.compare(0, 6, "prefix") == 0);
                got.append(line, 6);
                FUZZ_CHECK(n == 0 || line.back() == '\n' || got.size() == data.size(), "line without newline mid-stream");
                FUZZ_CHECK(line.find('\n', 6) == std::string::npos || line.find('\n', 6) == line.size() - 1);
                eof = n == 0;
                break;
            }
            case 2: {
                char delim = char(in->u8());
                std::vector<char> out;
                std::size_t n = co_await r.read_until(delim, out);
                FUZZ_CHECK(out.size() == n);
                got.append(out.data(), out.size());
                for (std::size_t i = 0; i + 1 < out.size(); ++i) FUZZ_CHECK(out[i] != delim);
                eof = n == 0;
                break;
            }
            case 3: {
                auto avail = co_await r.fill_buf();
                FUZZ_CHECK(avail.size() <= cap);
                std::size_t take = in->below(avail.size() + 2);  // may ask for more than there is
                std::size_t used = std::min(take, avail.size());
                got.append(reinterpret_cast<const char*>(avail.data()), used);
                r.consume(take);
                eof = avail.empty();
                break;
            }
            default: {
                auto b = r.buffer();
                FUZZ_CHECK(b.size() <= cap);
                // What is buffered is what comes next.
                FUZZ_CHECK(got.size() + b.size() <= data.size() &&
                           std::memcmp(b.data(), data.data() + got.size(), b.size()) == 0);
                if (in->empty()) eof = true;
                break;
            }
        }
        FUZZ_CHECK(got.size() <= data.size() && data.compare(0, got.size(), got) == 0,
                   "reader handed out %zu bytes that are not the source's", got.size() - before);
    }
    // Reading on to the end gives exactly the rest (nothing after an end of
    // file was seen).
    std::vector<char> rest;
    while (co_await r.read_until('\0', rest) != 0) {
    }
    got.append(rest.data(), rest.size());
    FUZZ_CHECK(got == data, "got %zu of %zu bytes", got.size(), data.size());
}

braid::Task<void> lines_of(std::string_view data, Script* s, std::size_t cap) {
    bio::BufReader r(SourceReader{data, s}, cap);
    std::vector<std::string> want;
    for (std::size_t at = 0; at < data.size();) {
        std::size_t nl = data.find('\n', at);
        std::size_t end = nl == std::string_view::npos ? data.size() : nl;
        std::string line(data.substr(at, end - at));
        if (!line.empty() && line.back() == '\r') line.pop_back();
        want.push_back(line);
        at = end + 1;
    }
    std::vector<std::string> got;
    auto lines = r.lines();
    while (auto l = co_await lines.next()) got.push_back(*l);
    FUZZ_CHECK(got == want, "%zu lines, expected %zu", got.size(), want.size());
}

braid::Task<void> writer_ops(std::string_view data, Script* s, std::size_t cap, Input* in) {
    std::string sink;
    int flushes = 0;
    bio::BufWriter w(SinkWriter{&sink, s, &flushes}, cap);
    std::string accepted;
    std::size_t at = 0;
    while (!in->empty()) {
        switch (in->below(3)) {
            case 0: {
                std::size_t n = std::min(in->below(3 * cap + 2), data.size() - at);
                std::size_t took = co_await w.write(bio::ConstBuffer(data.data() + at, n));
                FUZZ_CHECK(took <= n && (n == 0 || took > 0));
                accepted.append(data.data() + at, took);
                at += took;
                break;
            }
            case 1: {
                std::size_t n = std::min(in->below(3 * cap + 2), data.size() - at);
                co_await w.write_all(bio::ConstBuffer(data.data() + at, n));
                accepted.append(data.data() + at, n);
                at += n;
                break;
            }
            default: {
                int before = flushes;
                co_await w.flush();
                FUZZ_CHECK(w.buffered() == 0 && flushes == before + 1 && sink == accepted);
                break;
            }
        }
        FUZZ_CHECK(w.buffered() <= cap);
        FUZZ_CHECK(sink.size() + w.buffered() == accepted.size() && accepted.compare(0, sink.size(), sink) == 0);
    }
    co_await w.shutdown();
    FUZZ_CHECK(sink == accepted && w.buffered() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    Input in(data, size);
    uint8_t mode = in.u8() % 3;
    std::size_t cap = in.range(1, 64);
    Script script;
    script.sizes.resize(in.below(6));
    for (auto& c : script.sizes) c = in.u8();
    script.yields = in.u64();
    std::string_view bytes = in.bytes(in.u16() % 2048);
    auto& rt = braid_fuzz::fuzz_runtime();
    if (mode == 0) rt.block_on(reader_ops(bytes, &script, cap, &in));
    else if (mode == 1) rt.block_on(lines_of(bytes, &script, cap));
    else rt.block_on(writer_ops(bytes, &script, cap, &in));
    return 0;
}
