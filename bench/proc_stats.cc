// bench/proc_stats.cc: /proc readers, getrusage and sched_setaffinity. Layer: bench/.
#include "bench/proc_stats.h"

#include <dirent.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace epws::bench {
namespace {

bool read_file(const std::string& path, std::string& out) {
    std::ifstream in(path);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

uint64_t timeval_ns(const timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1000000000u + static_cast<uint64_t>(tv.tv_usec) * 1000u;
}

}  // namespace

bool parse_stat_user_sys(std::string_view stat, int64_t& user_ticks, int64_t& sys_ticks) {
    // proc(5): "pid (comm) state ppid ..."; comm may contain ") ", so split after the LAST ')'.
    size_t close = stat.rfind(')');
    if (close == std::string_view::npos) return false;
    std::string rest(stat.substr(close + 1));
    std::istringstream in(rest);
    std::string field;
    int64_t utime = -1, stime = -1;
    // Field 3 (state) is the first after ')'; utime and stime are fields 14 and 15.
    for (int n = 3; n <= 15 && (in >> field); ++n) {
        if (n == 14) utime = std::strtoll(field.c_str(), nullptr, 10);
        if (n == 15) stime = std::strtoll(field.c_str(), nullptr, 10);
    }
    if (utime < 0 || stime < 0) return false;
    user_ticks = utime;
    sys_ticks = stime;
    return true;
}

int64_t parse_stat_cpu_ticks(std::string_view stat) {
    int64_t u = 0, s = 0;
    return parse_stat_user_sys(stat, u, s) ? u + s : -1;
}

void add_ctx_switches(std::string_view status, uint64_t& voluntary, uint64_t& involuntary) {
    auto field = [&](std::string_view name) -> uint64_t {
        size_t at = status.find(name);
        if (at == std::string_view::npos) return 0;
        return std::strtoull(std::string(status.substr(at + name.size(), 24)).c_str(), nullptr, 10);
    };
    // "nonvoluntary_ctxt_switches:" contains "voluntary_ctxt_switches:": match line starts.
    voluntary += field("\nvoluntary_ctxt_switches:");
    involuntary += field("\nnonvoluntary_ctxt_switches:");
}

namespace {

// Context switches of every thread still alive (a thread that exited takes its count along).
void sample_ctx_switches(const std::string& base, ProcSample& out) {
    DIR* d = opendir((base + "/task").c_str());
    if (d == nullptr) return;
    std::string status;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        if (read_file(base + "/task/" + e->d_name + "/status", status))
            add_ctx_switches(status, out.ctx_voluntary, out.ctx_involuntary);
    }
    closedir(d);
}

}  // namespace

bool sample_process(pid_t pid, ProcSample& out, std::string& err) {
    std::string base = "/proc/" + std::to_string(pid);
    std::string stat, statm;
    if (!read_file(base + "/stat", stat) || !read_file(base + "/statm", statm)) {
        err = "cannot read " + base + "/stat: is the server (pid " + std::to_string(pid) + ") running?";
        return false;
    }
    int64_t user = 0, sys = 0;
    unsigned long size = 0, resident = 0;
    if (!parse_stat_user_sys(stat, user, sys) ||
        std::sscanf(statm.c_str(), "%lu %lu", &size, &resident) != 2) {
        err = "malformed " + base + "/stat or statm";
        return false;
    }
    auto tick_ns = 1000000000u / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
    out.user_ns = static_cast<uint64_t>(user) * tick_ns;
    out.sys_ns = static_cast<uint64_t>(sys) * tick_ns;
    out.cpu_ns = out.user_ns + out.sys_ns;
    out.rss_bytes = resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    out.ctx_voluntary = out.ctx_involuntary = 0;
    sample_ctx_switches(base, out);
    return true;
}

uint64_t self_cpu_ns() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return timeval_ns(ru.ru_utime) + timeval_ns(ru.ru_stime);
}

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

bool pin_process(pid_t pid, int cpu, std::string& err) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<size_t>(cpu), &set);
    std::string dir = "/proc/" + std::to_string(pid == 0 ? getpid() : pid) + "/task";
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) {
        err = "cannot list " + dir + ": " + std::strerror(errno);
        return false;
    }
    bool ok = true;
    // Every thread: Node and Python servers run helper threads beside their event loop.
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        auto tid = static_cast<pid_t>(std::atoi(e->d_name));
        if (sched_setaffinity(tid, sizeof(set), &set) != 0) {
            err = "sched_setaffinity(" + std::to_string(tid) + ", cpu " + std::to_string(cpu) +
                  "): " + std::strerror(errno);
            ok = false;
        }
    }
    closedir(d);
    return ok;
}

}  // namespace epws::bench
