// tests/bench/report_test.cc: options, /proc parsing and the JSON line scripts read.
#include <doctest/doctest.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "bench/options.h"
#include "bench/proc_stats.h"
#include "bench/report.h"

using namespace epws::bench;

TEST_SUITE("bench/report") {

TEST_CASE("the JSON line carries the figures scripts read") {
    Report r;
    r.options.scenario = Scenario::kEcho;
    r.options.label = "epws";
    r.window_s = 2;
    r.operations = 1000;
    r.has_latency = true;
    r.latency.record(100);
    r.has_server = true;
    r.server_before.cpu_ns = 1000000;
    r.server_after.cpu_ns = 3000000;
    r.client_cpu_ns = 1900000000;
    judge_bottleneck(r);
    std::string j = format_json(r);
    CHECK(j.front() == '{');
    CHECK(j.back() == '}');
    CHECK(j.find("\"rate\":500.0") != std::string::npos);
    CHECK(j.find("\"server_cpu_ns_per_op\":2000.0") != std::string::npos);
    CHECK(j.find("\"p99\":100") != std::string::npos);
    CHECK(j.find("\"client_bottleneck\":true") != std::string::npos);  // 95% of a core
    CHECK(j.find('\n') == std::string::npos);
}

TEST_CASE("a failed run prints its reason and no figures") {
    Report r;
    r.ok = false;
    r.error = "echo 3 differs \"quoted\"";
    std::string j = format_json(r);
    CHECK(j.find("\"ok\":false") != std::string::npos);
    CHECK(j.find("\\\"quoted\\\"") != std::string::npos);
    CHECK(j.find("\"rate\"") == std::string::npos);
    CHECK(format_table(r).find("FAILED") != std::string::npos);
}

TEST_CASE("the CPU ticks of /proc/PID/stat are found after a command name with spaces") {
    std::string stat = "1234 (a) b (c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1";
    CHECK(parse_stat_cpu_ticks(stat) == 300);
    CHECK(parse_stat_cpu_ticks("garbage") == -1);
}

TEST_CASE("our own process can be sampled") {
    ProcSample s;
    std::string err;
    REQUIRE(sample_process(getpid(), s, err));
    CHECK(s.rss_bytes > 0);
}

TEST_CASE("only loopback targets are accepted") {
    Options o;
    std::string err;
    CHECK(parse_options({"echo", "--url", "ws://127.0.0.9:9000/x"}, o, err));
    CHECK(o.port == 9000);
    CHECK(o.path == "/x");
    CHECK_FALSE(parse_options({"echo", "--url", "ws://10.0.0.1:9000/x"}, o, err));
    CHECK(err.find("loopback") != std::string::npos);
}

TEST_CASE("deflate, payload kinds and the chat scenario parse with their defaults and bounds") {
    Options o;
    std::string err;
    REQUIRE(parse_options({"echo", "--deflate", "--payload", "random", "-s", "4096"}, o, err));
    CHECK(o.deflate);
    CHECK_FALSE(o.deflate_no_context);
    CHECK(o.payload == PayloadKind::kRandom);
    o = {};
    REQUIRE(parse_options({"echo", "--deflate-no-context"}, o, err));
    CHECK(o.deflate);
    CHECK(o.deflate_no_context);
    CHECK(o.payload == PayloadKind::kCompressible);
    CHECK_FALSE(parse_options({"echo", "--payload", "zeros"}, o, err));
    CHECK_FALSE(parse_options({"broadcast", "-s", "64", "--deflate"}, o, err));
    o = {};
    REQUIRE(parse_options({"chat"}, o, err));
    CHECK(o.path == "/chat");
    CHECK(o.size == 64);
    CHECK(o.rate == 1);
    CHECK(o.rooms == 10);
    o = {};
    REQUIRE(parse_options({"chat", "-c", "50", "--rooms", "5", "--rate", "2", "-s", "100"}, o, err));
    CHECK(o.rooms == 5);
    CHECK(o.rate == 2);
    CHECK(o.size == 100);
    CHECK_FALSE(parse_options({"chat", "-s", "20"}, o, err));
    CHECK_FALSE(parse_options({"chat", "-s", "5000"}, o, err));
    CHECK_FALSE(parse_options({"chat", "--binary"}, o, err));
    CHECK_FALSE(parse_options({"chat", "--url", "ws://127.0.0.1:1/chat?username=x"}, o, err));
    CHECK_FALSE(parse_options({"chat", "--rooms", "0"}, o, err));
}

TEST_CASE("the chat and deflate figures reach the JSON line") {
    Report r;
    std::string err;
    REQUIRE(parse_options({"echo", "--deflate", "-s", "4096"}, r.options, err));
    r.window_s = 1;
    r.operations = 10;
    r.wire_ratio = 0.25;
    std::string j = format_json(r);
    CHECK(j.find("\"deflate\":\"on\"") != std::string::npos);
    CHECK(j.find("\"wire_ratio\":0.2500") != std::string::npos);
    CHECK(j.find("\"payload\":\"compressible\"") != std::string::npos);
    Report c;
    REQUIRE(parse_options({"chat", "--rooms", "3"}, c.options, err));
    c.window_s = 1;
    c.published = 7;
    std::string k = format_json(c);
    CHECK(k.find("\"rooms\":3") != std::string::npos);
    CHECK(k.find("\"published\":7") != std::string::npos);
    CHECK(format_table(c).find("rooms=3 rate=1/user") != std::string::npos);
}

TEST_CASE("flags are range-checked and --cpu takes a client and a server core") {
    Options o;
    std::string err;
    CHECK(parse_options({"broadcast", "-c", "1000", "-p", "4", "--cpu", "1,0", "-s", "64"}, o, err));
    CHECK(o.path == "/broadcast");
    CHECK(o.client_cpu == 1);
    CHECK(o.server_cpu == 0);
    CHECK_FALSE(parse_options({"echo", "-t", "100000"}, o, err));
    CHECK_FALSE(parse_options({"broadcast", "-s", "10"}, o, err));
}

}  // TEST_SUITE
