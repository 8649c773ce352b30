// bench/syscall_counter.cc: perf stat / strace -c as child processes, and their output parsed.
// Layer: bench/.
#include "bench/syscall_counter.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "bench/proc_stats.h"

extern char** environ;

namespace epws::bench {
namespace {

// Starts argv with stdin, stdout and stderr on /dev/null and the given descriptors moved to
// 3, 4, ... in the child; 0 on failure.
pid_t spawn_quiet(const std::vector<std::string>& args, const std::vector<int>& pass = {}) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    for (int fd = 0; fd <= 2; ++fd)
        posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    for (size_t i = 0; i < pass.size(); ++i)  // dup2 clears close-on-exec, even onto itself
        posix_spawn_file_actions_adddup2(&fa, pass[i], 3 + static_cast<int>(i));
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : 0;
}

// Waits for pid at most timeout_ns (polling: waitpid has no timeout); kills it past that.
bool reap(pid_t pid, uint64_t timeout_ns) {
    uint64_t deadline = now_ns() + timeout_ns;
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) || WIFSIGNALED(status);
        if (r < 0 && errno != EINTR) return false;
        if (now_ns() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return false;
        }
        usleep(2000);  // a child's exit has no descriptor to wait on here; 2 ms granularity
    }
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string temp_path(const char* tag) {
    return "/tmp/epws-bench-" + std::string(tag) + "-" + std::to_string(getpid()) + "-" +
           std::to_string(now_ns() % 1000000000u) + ".txt";
}

std::vector<std::string> command(SyscallTool tool, pid_t pid, const std::string& out) {
    std::string p = std::to_string(pid);
    if (tool == SyscallTool::kPerf)  // -p: every thread of the process; -D -1: start disabled
        return {"perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-D", "-1",
                "--control", "fd:3,4", "-o", out, "-p", p};
    return {"strace", "-c", "-f", "-q", "-o", out, "-p", p};
}

}  // namespace

const char* syscall_tool_name(SyscallTool t) {
    switch (t) {
    case SyscallTool::kNone: return "none";
    case SyscallTool::kPerf: return "perf";
    case SyscallTool::kStrace: return "strace";
    }
    return "none";
}

int64_t parse_perf_syscalls(std::string_view text) {
    size_t at = text.find(",raw_syscalls:sys_enter");
    if (at == std::string_view::npos) return -1;
    size_t line = text.rfind('\n', at);
    line = line == std::string_view::npos ? 0 : line + 1;
    // The first CSV field: the count, or "<not supported>" / "<not counted>".
    size_t comma = text.find(',', line);
    std::string_view count = text.substr(line, comma - line);
    if (count.empty() || count.size() > 19) return -1;
    int64_t n = 0;
    for (char c : count) {
        if (c < '0' || c > '9') return -1;
        n = n * 10 + (c - '0');
    }
    return n;
}

int64_t parse_strace_total(std::string_view text) {
    // "100.00    0.012345           1      9876       123 total": % time, seconds, usecs/call,
    // calls, errors (may be blank), name. The calls are the fourth field.
    size_t at = text.rfind(" total");
    if (at == std::string_view::npos) return -1;
    size_t line = text.rfind('\n', at);
    line = line == std::string_view::npos ? 0 : line + 1;
    std::istringstream in{std::string(text.substr(line, at - line))};
    std::string f[4];
    for (std::string& s : f)
        if (!(in >> s)) return -1;
    char* end = nullptr;
    long long n = std::strtoll(f[3].c_str(), &end, 10);
    return end && *end == '\0' && n >= 0 ? n : -1;
}

SyscallTool detect_syscall_tool() {
    std::string out = temp_path("detect");
    pid_t pid =
        spawn_quiet({"perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-o", out, "true"});
    bool perf = pid > 0 && reap(pid, 5000000000u) && parse_perf_syscalls(slurp(out)) > 0;
    unlink(out.c_str());
    if (perf) return SyscallTool::kPerf;
    pid = spawn_quiet({"strace", "-V"});
    if (pid > 0 && reap(pid, 5000000000u)) return SyscallTool::kStrace;
    return SyscallTool::kNone;
}

SyscallCounter::~SyscallCounter() {
    if (child_ > 0) {
        kill(child_, SIGKILL);
        reap(child_, 1000000000u);
    }
    close_pipes();
    if (!out_path_.empty()) unlink(out_path_.c_str());
}

void SyscallCounter::close_pipes() {
    if (ctl_fd_ >= 0) close(ctl_fd_);
    if (ack_fd_ >= 0) close(ack_fd_);
    ctl_fd_ = ack_fd_ = -1;
}

bool SyscallCounter::start(SyscallTool tool, pid_t pid, std::string& err) {
    if (tool == SyscallTool::kNone) return err = "no system call counter", false;
    tool_ = tool;
    out_path_ = temp_path(syscall_tool_name(tool));
    std::vector<int> pass;
    int ctl[2] = {-1, -1}, ack[2] = {-1, -1};
    if (tool == SyscallTool::kPerf) {
        if (pipe2(ctl, O_CLOEXEC) != 0 || pipe2(ack, O_CLOEXEC) != 0)
            return err = std::string("pipe: ") + std::strerror(errno), false;
        pass = {ctl[0], ack[1]};
    }
    child_ = spawn_quiet(command(tool, pid, out_path_), pass);
    for (int fd : pass) close(fd);  // the child's copies are what perf uses
    ctl_fd_ = ctl[1];
    ack_fd_ = ack[0];
    if (child_ == 0) {
        close_pipes();
        return err = std::string("cannot start ") + syscall_tool_name(tool), false;
    }
    return true;
}

bool SyscallCounter::control(const char* cmd, std::string& err) {
    if (tool_ != SyscallTool::kPerf) return true;
    if (child_ <= 0 || ctl_fd_ < 0) return err = "perf is not running", false;
    std::string line = std::string(cmd) + "\n";
    if (write(ctl_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return err = std::string("perf control: ") + std::strerror(errno), false;
    // perf answers "ack\n" once the events are switched; it may take a while to attach first.
    pollfd p{ack_fd_, POLLIN, 0};
    char buf[16];
    if (poll(&p, 1, 5000) != 1 || read(ack_fd_, buf, sizeof(buf)) < 3 ||
        std::memcmp(buf, "ack", 3) != 0)
        return err = std::string("perf did not acknowledge '") + cmd + "'", false;
    return true;
}

int64_t SyscallCounter::stop(std::string& err) {
    if (child_ <= 0) return err = "not started", -1;
    kill(child_, SIGINT);  // both tools print their summary on SIGINT and detach
    bool exited = reap(child_, 5000000000u);
    child_ = 0;
    close_pipes();
    std::string text = slurp(out_path_);
    unlink(out_path_.c_str());
    out_path_.clear();
    int64_t n = tool_ == SyscallTool::kPerf ? parse_perf_syscalls(text) : parse_strace_total(text);
    if (!exited || n < 0)
        err = std::string(syscall_tool_name(tool_)) + " gave no count" +
              (exited ? "" : " (killed)");
    return exited ? n : -1;
}

}  // namespace epws::bench
