// tests/bench/syscall_counter_test.cc: perf's and strace's summaries parsed, the user/system and
// context-switch figures of /proc, and the per-operation split in the JSON line.
#include <doctest/doctest.h>

#include <unistd.h>

#include <string>

#include "bench/options.h"
#include "bench/proc_stats.h"
#include "bench/report.h"
#include "bench/syscall_counter.h"

using namespace epws::bench;

TEST_SUITE("bench/syscall_counter") {

TEST_CASE("perf stat's CSV line gives the raw_syscalls count, and not-counted gives none") {
    CHECK(parse_perf_syscalls("# started on Tue\n\n"
                              "10810,,raw_syscalls:sys_enter,105612617,100.00,,\n") == 10810);
    CHECK(parse_perf_syscalls("7,,raw_syscalls:sys_enter,1,100.00,,") == 7);
    CHECK(parse_perf_syscalls("<not supported>,,raw_syscalls:sys_enter,0,100.00,,\n") == -1);
    CHECK(parse_perf_syscalls("<not counted>,,raw_syscalls:sys_enter,0,0.00,,\n") == -1);
    CHECK(parse_perf_syscalls("123,,instructions,1,100.00,,\n") == -1);
    CHECK(parse_perf_syscalls("") == -1);
}

TEST_CASE("strace -c's total line gives the calls, with or without an errors column") {
    std::string with_errors =
        "% time     seconds  usecs/call     calls    errors syscall\n"
        "------ ----------- ----------- --------- --------- ----------------\n"
        " 60.00    0.000600           3       200           read\n"
        "------ ----------- ----------- --------- --------- ----------------\n"
        "100.00    0.001000           2       412        19 total\n";
    CHECK(parse_strace_total(with_errors) == 412);
    CHECK(parse_strace_total("100.00    0.001000           2       300 total\n") == 300);
    CHECK(parse_strace_total("strace: attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted\n") ==
          -1);
    CHECK(parse_strace_total("100.00 x y total\n") == -1);
}

TEST_CASE("user and system ticks are read apart after a command name with spaces") {
    int64_t u = 0, s = 0;
    REQUIRE(parse_stat_user_sys("1234 (a) b (c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1", u, s));
    CHECK(u == 250);
    CHECK(s == 50);
    CHECK_FALSE(parse_stat_user_sys("1234 (a) S 1 2", u, s));
}

TEST_CASE("voluntary and involuntary context switches are told apart") {
    uint64_t v = 0, n = 0;
    add_ctx_switches("Name:\tepws\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n",
                     v, n);
    add_ctx_switches("Name:\tworker\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t4\n",
                     v, n);
    CHECK(v == 13);
    CHECK(n == 7);
}

TEST_CASE("sampling our own process fills the user, system and switch counters") {
    ProcSample s;
    std::string err;
    REQUIRE(sample_process(getpid(), s, err));
    CHECK(s.cpu_ns == s.user_ns + s.sys_ns);
    usleep(1000);  // guarantees at least one voluntary switch before the second sample
    ProcSample t;
    REQUIRE(sample_process(getpid(), t, err));
    CHECK(t.ctx_voluntary > s.ctx_voluntary);
}

TEST_CASE("the JSON line splits server CPU into user and system and gives calls per operation") {
    Report r;
    r.options.scenario = Scenario::kEcho;
    r.window_s = 1;
    r.operations = 1000;
    r.has_server = true;
    r.server_after.user_ns = 100000;
    r.server_after.sys_ns = 400000;
    r.server_after.cpu_ns = 500000;
    r.server_after.ctx_voluntary = 20;
    r.server_after.ctx_involuntary = 5;
    r.syscalls = 125;
    r.syscall_tool = "perf";
    std::string j = format_json(r);
    CHECK(j.find("\"server_user_ns_per_op\":100.0") != std::string::npos);
    CHECK(j.find("\"server_sys_ns_per_op\":400.0") != std::string::npos);
    CHECK(j.find("\"server_syscalls_per_op\":0.1250") != std::string::npos);
    CHECK(j.find("\"server_ctx_switches_per_op\":0.02500") != std::string::npos);
    CHECK(j.find("\"syscalls_from\":\"perf\"") != std::string::npos);
    // strace counts over its own window's operations, not the measured window's.
    r.syscall_tool = "strace";
    r.syscall_ops = 50;
    CHECK(r.syscalls_per_op() == doctest::Approx(2.5));
    r.syscalls = -1;
    r.syscall_note = "not counted (--syscalls off)";
    j = format_json(r);
    CHECK(j.find("server_syscalls_per_op") == std::string::npos);
    CHECK(j.find("\"syscalls_note\":\"not counted (--syscalls off)\"") != std::string::npos);
    CHECK(format_table(r).find("not counted (--syscalls off)") != std::string::npos);
}

TEST_CASE("--syscalls and --dialect parse their choices and refuse others") {
    Options o;
    std::string err;
    CHECK(o.syscalls == SyscallChoice::kAuto);
    REQUIRE(parse_options({"echo", "--syscalls", "strace"}, o, err));
    CHECK(o.syscalls == SyscallChoice::kStrace);
    REQUIRE(parse_options({"echo", "--syscalls", "off"}, o, err));
    CHECK(o.syscalls == SyscallChoice::kOff);
    CHECK_FALSE(parse_options({"echo", "--syscalls", "dtrace"}, o, err));
    CHECK(err.find("--syscalls") != std::string::npos);
    Options c;
    REQUIRE(parse_options({"chat", "--dialect", "socketio"}, c, err));
    CHECK(c.dialect == ChatDialect::kSocketIo);
    CHECK_FALSE(parse_options({"chat", "--dialect", "mqtt"}, c, err));
}

}  // TEST_SUITE
