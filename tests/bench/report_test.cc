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

TEST_CASE("compression and the chat scenario are refused as not yet implemented") {
    Options o;
    std::string err;
    CHECK_FALSE(parse_options({"echo", "--deflate"}, o, err));
    CHECK(err.find("not yet") != std::string::npos);
    CHECK_FALSE(parse_options({"chat"}, o, err));
    CHECK(err.find("not yet") != std::string::npos);
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
