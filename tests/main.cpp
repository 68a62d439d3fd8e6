// The test executables' main: Catch2's session, then the checks recorded off
// the test's thread (EXPECT_ANYWHERE in support.hpp) fail the process.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "support.hpp"

int main(int argc, char* argv[]) {
    int rc = Catch::Session().run(argc, argv);
    std::lock_guard<std::mutex> g(braid_test::failures_mu());
    for (const std::string& f : braid_test::failures()) std::fprintf(stderr, "failed off the test thread: %s\n", f.c_str());
    if (!braid_test::failures().empty() && rc == 0) rc = 1;
    return rc;
}
