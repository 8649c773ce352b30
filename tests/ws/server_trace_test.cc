// tests/ws/server_trace_test.cc: the server trace's line prefixing and its writer, which must
// never block a loop on a slow output (ws/server_trace.h).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "ws/server_trace.h"

using namespace epws;

namespace {

// Reads fd until `needle` appears or 10 s pass.
std::string read_until(int fd, const std::string& needle) {
    std::string got;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    char buf[65536];
    while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
    }
    return got;
}

}  // namespace

TEST_SUITE("ws/server_trace") {
    TEST_CASE("every line gets the prefix, and a last line without a newline gets one") {
        std::string out;
        ws::prefix_lines("a\n\nb", "[conn 7] ", out);
        CHECK(out == "[conn 7] a\n[conn 7] \n[conn 7] b\n");
        out.clear();
        ws::prefix_lines("", "[conn 7] ", out);
        CHECK(out.empty());
    }

    TEST_CASE("the writer passes whole lines to its fd in order") {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        {
            ws::TraceWriter w(p[1], 1 << 20);
            w.write("one\n");
            w.write("two\nthree\n");
            CHECK(read_until(p[0], "three\n") == "one\ntwo\nthree\n");
            CHECK(w.dropped_lines() == 0);
        }
        ::close(p[0]);
        ::close(p[1]);
    }

    TEST_CASE("a reader that reads nothing never blocks the writer's callers: lines are dropped "
              "and counted, and the count is written once the reader catches up") {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        {
            ws::TraceWriter w(p[1], 4096);
            std::string line(99, 'x');
            line += '\n';
            auto start = std::chrono::steady_clock::now();
            // Far more than the pipe (64 KiB) and the buffer (4 KiB) hold together.
            for (int i = 0; i < 20000; ++i) w.write(line);
            auto took = std::chrono::steady_clock::now() - start;
            CHECK(took < std::chrono::seconds(5));  // no write waited for the reader
            uint64_t dropped = w.dropped_lines();
            CHECK(dropped > 10000);
            CHECK(dropped < 20000);
            std::string got = read_until(p[0], "lines dropped");
            CHECK(got.find(" lines dropped: the output was slower than the traffic traced\n") !=
                  std::string::npos);
        }
        ::close(p[0]);
        ::close(p[1]);
    }
}
