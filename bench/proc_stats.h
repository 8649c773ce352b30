// bench/proc_stats.h: what the load generator reads about processes: CPU time and resident memory
// from /proc, its own CPU from getrusage, and core pinning. Layer: bench/.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace epws::bench {

// One look at a process. cpu_ns is user + system time of all its threads (/proc/PID/stat fields
// 14 and 15, in clock ticks of 10 ms: measure over seconds, not milliseconds).
struct ProcSample {
    uint64_t cpu_ns = 0;
    uint64_t user_ns = 0;    // field 14 alone
    uint64_t sys_ns = 0;     // field 15 alone: the kernel's work in the server's system calls
    uint64_t rss_bytes = 0;  // /proc/PID/statm resident pages * page size
    // Context switches summed over /proc/PID/task/*/status: voluntary ones are the server
    // going to sleep in epoll_wait (each later costs a wake-up); involuntary ones are preemption.
    uint64_t ctx_voluntary = 0;
    uint64_t ctx_involuntary = 0;
};

// Reads /proc/PID/stat and /proc/PID/statm; false (and err filled) if the process is gone.
bool sample_process(pid_t pid, ProcSample& out, std::string& err);
// Parses the text of /proc/PID/stat (the command name may hold spaces and parentheses);
// returns user + system ticks, or -1 if malformed. Pure, for tests.
int64_t parse_stat_cpu_ticks(std::string_view stat);
// The same, user and system apart; false if malformed. Pure, for tests.
bool parse_stat_user_sys(std::string_view stat, int64_t& user_ticks, int64_t& sys_ticks);
// Adds the voluntary_ctxt_switches and nonvoluntary_ctxt_switches of one /proc/.../status text.
// Pure, for tests.
void add_ctx_switches(std::string_view status, uint64_t& voluntary, uint64_t& involuntary);
// This process's user + system CPU time (getrusage).
uint64_t self_cpu_ns();
// CLOCK_MONOTONIC in nanoseconds: the clock every timestamp in bench/ uses.
uint64_t now_ns();
// Pins every thread of pid (0: this process) to one core; false and err filled on failure.
bool pin_process(pid_t pid, int cpu, std::string& err);

}  // namespace epws::bench
