// bench/report.h: one run's figures, printed as a readable table and as one JSON line.
// Layer: bench/. Pure formatting: the scenarios fill a Report, nothing here measures.
#pragma once

#include <cstdint>
#include <string>

#include "bench/histogram.h"
#include "bench/options.h"
#include "bench/proc_stats.h"

namespace epws::bench {

// Above this fraction of one core the client may have been the bottleneck (the 90%).
constexpr double kClientBottleneck = 0.90;

struct Report {
    Options options;
    bool ok = true;
    std::string error;          // why the run failed (then no figures are printed)
    double window_s = 0;        // the measured window, warm-up excluded
    uint64_t operations = 0;    // echoes, deliveries, handshakes or idle connections in it
    uint64_t published = 0;     // broadcast, chat: messages the publishers sent in the window
    double wire_ratio = 0;      // echo --deflate: payload bytes on the wire / bytes before it
    bool has_latency = false;
    Histogram latency;          // nanoseconds
    bool has_server = false;
    ProcSample server_before;   // at the start of the window (idle: before connecting)
    ProcSample server_after;    // at its end
    uint64_t client_cpu_ns = 0; // our own user + system time in the window
    int64_t syscalls = -1;      // the server's system calls counted, -1: not counted
    uint64_t syscall_ops = 0;   // the operations they were counted over (0: those of the window)
    std::string syscall_tool = "none";  // "perf" (in the window) or "strace" (a window after it)
    std::string syscall_note;   // why they were not counted
    std::string warning;        // e.g. the client was the bottleneck

    double rate() const { return window_s > 0 ? double(operations) / window_s : 0; }
    double client_cpu_fraction() const;
    double server_cpu_fraction() const;
    // Server CPU per operation in ns; per connection for idle. 0 without server figures.
    double server_ns_per_op() const;
    // The same split: user space, and the kernel working inside the server's system calls.
    double server_user_ns_per_op() const;
    double server_sys_ns_per_op() const;
    // System calls per operation; -1 if not counted.
    double syscalls_per_op() const;
    // Context switches (voluntary + involuntary) per operation, and the voluntary ones alone:
    // each voluntary switch is a sleep in epoll_wait, so a wake-up.
    double ctx_switches_per_op() const;
    double voluntary_switches_per_op() const;
    // idle: the server's RSS growth divided by the connections held.
    double server_bytes_per_connection() const;
    const char* unit() const;  // "echoes/s", "deliveries/s", "handshakes/s", "connections"
};

// Sets report.warning when the client used more than kClientBottleneck of a core.
void judge_bottleneck(Report& report);
// A few aligned lines for people.
std::string format_table(const Report& report);
// One JSON object on one line (no trailing newline), for scripts. Times in ns.
std::string format_json(const Report& report);

}  // namespace epws::bench
