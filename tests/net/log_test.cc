// tests/net/log_test.cc: the log's two formats and its rate limit (net/log.h), read back
// from stderr redirected into a temporary file.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <string>

#include "net/log.h"

using namespace epws::net;

namespace {

// Captures what is written to fd 2 while it lives.
class Capture {
public:
    Capture() {
        std::fflush(stderr);
        saved_ = dup(2);
        file_ = std::tmpfile();
        dup2(fileno(file_), 2);
    }
    ~Capture() {
        dup2(saved_, 2);
        close(saved_);
        std::fclose(file_);
    }
    std::string text() {
        std::string out;
        std::rewind(file_);
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof(buf), file_)) > 0) out.append(buf, n);
        return out;
    }

private:
    int saved_;
    std::FILE* file_;
};

struct Restore {
    ~Restore() {
        set_log_level(LogLevel::kInfo);
        set_log_format(LogFormat::kText);
    }
};

}  // namespace

TEST_SUITE("net/log") {
    TEST_CASE("text lines quote values with spaces and escape what a terminal would obey") {
        Restore r;
        Capture c;
        log(LogLevel::kInfo, "refused", {{"reason", "bad_key"}, {"peer", "a b"}, {"user", "x\ny"}});
        std::string t = c.text();
        CHECK(t.starts_with("epws: "));
        CHECK(t.find(" info refused reason=bad_key peer=\"a b\" user=\"x\\u000ay\"\n") != std::string::npos);
    }

    TEST_CASE("json lines are one object with the fields as strings") {
        Restore r;
        set_log_format(LogFormat::kJson);
        Capture c;
        log(LogLevel::kWarn, "cut", {{"q", "say \"hi\"\\"}});
        std::string t = c.text();
        CHECK(t.starts_with("{\"ts\":\""));
        CHECK(t.find("\"level\":\"warn\",\"event\":\"cut\",\"q\":\"say \\\"hi\\\"\\\\\"}\n") != std::string::npos);
    }

    TEST_CASE("a level above the one set writes nothing") {
        Restore r;
        set_log_level(LogLevel::kWarn);
        Capture c;
        log(LogLevel::kInfo, "hidden");
        CHECK_FALSE(log_limited(LogLevel::kDebug, "hidden"));
        log(LogLevel::kError, "shown");
        CHECK(c.text().find("hidden") == std::string::npos);
        CHECK(c.text().find("error shown") != std::string::npos);
    }

    TEST_CASE("a flood passes its burst, then drops lines and counts them") {
        Restore r;
        Capture c;
        int passed = 0;
        for (int i = 0; i < 1000; ++i) passed += log_limited(LogLevel::kInfo, "flood") ? 1 : 0;
        CHECK(passed >= 100);
        CHECK(passed < 120);  // the burst, plus what refills while the loop runs
        // The next line to pass (a token refills every 50 ms) reports the dropped ones.
        for (int i = 0; i < 100000000 && !log_limited(LogLevel::kInfo, "after"); ++i) {
        }
        std::string t = c.text();
        CHECK(t.find("suppressed=") != std::string::npos);  // a later line says how many
    }

    TEST_CASE("levels parse from their names") {
        LogLevel l = LogLevel::kInfo;
        CHECK(parse_log_level("debug", l));
        CHECK(l == LogLevel::kDebug);
        CHECK_FALSE(parse_log_level("verbose", l));
    }
}
