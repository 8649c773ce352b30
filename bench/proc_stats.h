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
    uint64_t rss_bytes = 0;  // /proc/PID/statm resident pages * page size
};

// Reads /proc/PID/stat and /proc/PID/statm; false (and err filled) if the process is gone.
bool sample_process(pid_t pid, ProcSample& out, std::string& err);
// Parses the text of /proc/PID/stat (the command name may hold spaces and parentheses);
// returns user + system ticks, or -1 if malformed. Pure, for tests.
int64_t parse_stat_cpu_ticks(std::string_view stat);
// This process's user + system CPU time (getrusage).
uint64_t self_cpu_ns();
// CLOCK_MONOTONIC in nanoseconds: the clock every timestamp in bench/ uses.
uint64_t now_ns();
// Pins every thread of pid (0: this process) to one core; false and err filled on failure.
bool pin_process(pid_t pid, int cpu, std::string& err);

}  // namespace epws::bench
