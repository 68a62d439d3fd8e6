// A C++20 program built against an INSTALLED braid (pkg-config or
// find_package): braid::run of a Task that sleeps, spawns a child task and
// awaits it.
#include <braid/braid.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

using namespace std::chrono_literals;

static braid::Task<int> child(int x) {
    co_await braid::sleep(1ms);
    co_return x * 2;
}

static braid::Task<int> root() {
    braid::Instant t0 = braid::Instant::now();
    co_await braid::sleep(1ms);
    if (braid::Instant::now() - t0 < 1ms) throw std::runtime_error("slept less than 1 ms");
    braid::JoinHandle<int> h = braid::spawn(child(20));
    int v = co_await h;
    co_return v + 2;
}

int main() {
    if (std::strcmp(braid_version(), BRAID_VERSION_STRING) != 0) {
        std::fprintf(stderr, "version mismatch: %s vs %s\n", braid_version(), BRAID_VERSION_STRING);
        return 1;
    }
    int v = braid::run(root());
    if (v != 42) {
        std::fprintf(stderr, "braid::run returned %d, expected 42\n", v);
        return 1;
    }
    std::printf("braid-cxx-consumer ok %d\n", v);
    return 0;
}
