// The README's C++ quick start.
#include <braid/braid.hpp>

#include <cstdio>

using namespace std::chrono_literals;

braid::Task<int> compute(int x) {
    co_await braid::sleep(10ms);
    co_return x * 2;
}

braid::Task<int> async_main() {
    std::puts("Hello from async!");
    auto handle = braid::spawn(compute(21));           // runs concurrently on a worker
    int blocking = co_await braid::spawn_blocking([] { return 1; });
    co_return co_await handle + blocking;               // 43
}

int main() { return braid::run(async_main()) == 43 ? 0 : 1; }
