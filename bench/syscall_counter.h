// bench/syscall_counter.h: counts another process's system calls over a window, with
// `perf stat -e raw_syscalls:sys_enter` when that works, else `strace -c -f`. Layer: bench/.
// The counter runs as a child process of ours (pinned where we are) attached to the server.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace epws::bench {

enum class SyscallTool : uint8_t { kNone, kPerf, kStrace };

const char* syscall_tool_name(SyscallTool t);  // "none", "perf", "strace"

// Which tool works here: perf if `perf stat -e raw_syscalls:sys_enter true` prints a count,
// else strace if `strace -V` runs, else none. Runs those commands once (about 50 ms).
SyscallTool detect_syscall_tool();

// One counting session. perf counts in the kernel and costs the server little; strace stops
// the server at every call (it runs many times slower), so scenarios give it a separate short
// window after the measured one and only its calls-per-operation ratio is kept.
//
// perf is started disabled (`-D -1 --control fd:...`) long before the window and switched on
// and off at its edges: each switch returns once perf acknowledges it, so the count covers the
// window and nothing else. strace counts from attach to detach.
class SyscallCounter {
public:
    SyscallCounter() = default;
    SyscallCounter(const SyscallCounter&) = delete;
    SyscallCounter& operator=(const SyscallCounter&) = delete;
    ~SyscallCounter();
    // Attaches to every thread of pid. False with err if the tool could not be started.
    bool start(SyscallTool tool, pid_t pid, std::string& err);
    // perf only (no-ops for strace): counting on / off, each waiting at most 5 s for the ack.
    bool enable(std::string& err) { return control("enable", err); }
    bool disable(std::string& err) { return control("disable", err); }
    // Detaches (SIGINT, then waits at most 5 s) and returns the calls counted, or -1 with err.
    int64_t stop(std::string& err);
    bool running() const { return child_ > 0; }
    SyscallTool tool() const { return tool_; }

private:
    bool control(const char* command, std::string& err);
    void close_pipes();

    SyscallTool tool_ = SyscallTool::kNone;
    pid_t child_ = 0;
    int ctl_fd_ = -1;       // we write perf's commands here
    int ack_fd_ = -1;       // and read its "ack" here
    std::string out_path_;  // the tool's report (-o FILE)
};

// The count in `perf stat -x,` output for raw_syscalls:sys_enter; -1 if absent or not counted.
// Pure, for tests.
int64_t parse_perf_syscalls(std::string_view text);
// The calls column of the "total" line of an `strace -c` summary; -1 if absent. Pure, for tests.
int64_t parse_strace_total(std::string_view text);

}  // namespace epws::bench
