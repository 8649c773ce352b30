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

int64_t parse_stat_cpu_ticks(std::string_view stat) {
    // proc(5): "pid (comm) state ppid ..."; comm may contain ") ", so split after the LAST ')'.
    size_t close = stat.rfind(')');
    if (close == std::string_view::npos) return -1;
    std::string rest(stat.substr(close + 1));
    std::istringstream in(rest);
    std::string field;
    int64_t utime = -1, stime = -1;
    // Field 3 (state) is the first after ')'; utime and stime are fields 14 and 15.
    for (int n = 3; n <= 15 && (in >> field); ++n) {
        if (n == 14) utime = std::strtoll(field.c_str(), nullptr, 10);
        if (n == 15) stime = std::strtoll(field.c_str(), nullptr, 10);
    }
    if (utime < 0 || stime < 0) return -1;
    return utime + stime;
}

bool sample_process(pid_t pid, ProcSample& out, std::string& err) {
    std::string base = "/proc/" + std::to_string(pid);
    std::string stat, statm;
    if (!read_file(base + "/stat", stat) || !read_file(base + "/statm", statm)) {
        err = "cannot read " + base + "/stat: is the server (pid " + std::to_string(pid) + ") running?";
        return false;
    }
    int64_t ticks = parse_stat_cpu_ticks(stat);
    unsigned long size = 0, resident = 0;
    if (ticks < 0 || std::sscanf(statm.c_str(), "%lu %lu", &size, &resident) != 2) {
        err = "malformed " + base + "/stat or statm";
        return false;
    }
    auto hz = static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
    out.cpu_ns = static_cast<uint64_t>(ticks) * (1000000000u / hz);
    out.rss_bytes = resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
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
