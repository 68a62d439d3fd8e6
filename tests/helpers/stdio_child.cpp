// The child that tests/io_stdio.cpp runs with its standard streams being
// pipes or files: it uses braid::io::Stdin, Stdout and Stderr, then checks
// that the flags of fds 0, 1 and 2 (O_NONBLOCK above all) are what they were.
//
//   stdio_child lines   each line of stdin as "line N: TEXT\n" on stdout, then
//                       "eof N R\n" (N lines; R: what one more read gave) and
//                       "to stderr\n" on stderr
//   stdio_child copy    stdin to stdout with braid::io::copy, then the byte
//                       count on stderr
//
// Exit status: 0; 2 for a bad argument; 3 when a flag of fd 0, 1 or 2
// changed; 4 when braid threw ("stdio_child: code N: what" on stderr).
#include <braid/braid.hpp>
#include <braid/io/stdio.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

namespace {

braid::Task<> echo_lines() {
    braid::io::BufReader in(braid::io::Stdin{});
    braid::io::Stdout out;
    braid::io::Stderr err;
    auto lines = in.lines();
    int n = 0;
    while (auto l = co_await lines.next()) {
        ++n;
        co_await out.write_all("line " + std::to_string(n) + ": " + *l + "\n");
    }
    char b[16];
    std::size_t again = co_await in.read(b);  // end of file stays end of file
    co_await out.write_all("eof " + std::to_string(n) + " " + std::to_string(again) + "\n");
    co_await out.flush();
    co_await err.write_all("to stderr\n");
}

braid::Task<> copy_through() {
    braid::io::Stdin in;
    braid::io::Stdout out;
    uint64_t n = co_await braid::io::copy(in, out);
    braid::io::Stderr err;
    co_await err.write_all(std::to_string(n) + "\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 || (std::strcmp(argv[1], "lines") != 0 && std::strcmp(argv[1], "copy") != 0)) return 2;
    int before[3];
    for (int fd = 0; fd < 3; ++fd) before[fd] = ::fcntl(fd, F_GETFL);
    try {
        auto rt = braid::Runtime::builder().worker_threads(2).build();
        rt.block_on(std::strcmp(argv[1], "lines") == 0 ? echo_lines() : copy_through());
    } catch (const braid::Error& e) {
        std::fprintf(stderr, "stdio_child: code %d: %s\n", e.code(), e.what());
        return 4;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "stdio_child: %s\n", e.what());
        return 4;
    }
    for (int fd = 0; fd < 3; ++fd)
        if (::fcntl(fd, F_GETFL) != before[fd]) {
            std::fprintf(stderr, "stdio_child: the flags of fd %d changed\n", fd);
            return 3;
        }
    return 0;
}
