// net/log.cc: the log's formats and its rate limit. Layer: net/.
#include "net/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>

#include "net/clock.h"

namespace epws::net {
namespace {

// relaxed everywhere: each is one value read on its own; no other memory depends on it.
std::atomic<uint8_t> g_level{static_cast<uint8_t>(LogLevel::kInfo)};
std::atomic<uint8_t> g_format{static_cast<uint8_t>(LogFormat::kText)};

constexpr double kRatePerSecond = 20;
constexpr double kBurst = 100;

// Per thread (each loop is one), so the limit needs no lock.
struct Bucket {
    double tokens = kBurst;
    uint64_t refilled_ms = 0;
    uint64_t suppressed = 0;
};
thread_local Bucket t_bucket;

void timestamp(std::string& out) {
    uint64_t ms = wall_ms();
    time_t s = static_cast<time_t>(ms / 1000);
    tm t{};
    gmtime_r(&s, &t);
    char buf[80];  // 24 bytes in practice; room for any int the compiler imagines
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", t.tm_year + 1900,
                  t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                  static_cast<unsigned>(ms % 1000));
    out += buf;
}

void json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof(esc), "\\u%04x", u);
            out += esc;
        } else {
            out += c;  // a peer's bytes reach the log only as our own names and numbers
        }
    }
    out += '"';
}

void text_value(std::string& out, std::string_view v) {
    bool plain = !v.empty();
    for (char c : v)
        if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x21) plain = false;
    if (plain) out += v;
    else json_string(out, v);
}

void write_line(LogLevel level, std::string_view event, const LogField* begin,
                const LogField* end, uint64_t suppressed) {
    struct Range {
        const LogField* b;
        const LogField* e;
        const LogField* begin() const { return b; }
        const LogField* end() const { return e; }
    } fields{begin, end};
    std::string line;
    line.reserve(160);
    std::string n = suppressed ? std::to_string(suppressed) : std::string();
    if (log_format() == LogFormat::kJson) {
        line += "{\"ts\":\"";
        timestamp(line);
        line += "\",\"level\":\"";
        line += log_level_name(level);
        line += "\",\"event\":";
        json_string(line, event);
        for (const LogField& f : fields) {
            line += ',';
            json_string(line, f.key);
            line += ':';
            json_string(line, f.value);
        }
        if (suppressed) line += ",\"suppressed\":" + n;
        line += "}\n";
    } else {
        line += "epws: ";
        timestamp(line);
        line += ' ';
        line += log_level_name(level);
        line += ' ';
        line += event;
        for (const LogField& f : fields) {
            line += ' ';
            line += f.key;
            line += '=';
            text_value(line, f.value);
        }
        if (suppressed) line += " suppressed=" + n;
        line += '\n';
    }
    // One write: a line shorter than PIPE_BUF reaches a pipe whole (pipe(7)).
    ssize_t w = ::write(STDERR_FILENO, line.data(), line.size());
    (void)w;  // nowhere to report a failing log
}

}  // namespace

void set_log_level(LogLevel level) { g_level.store(static_cast<uint8_t>(level), std::memory_order_relaxed); }
void set_log_format(LogFormat format) { g_format.store(static_cast<uint8_t>(format), std::memory_order_relaxed); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }
LogFormat log_format() { return static_cast<LogFormat>(g_format.load(std::memory_order_relaxed)); }
bool log_enabled(LogLevel level) { return level <= log_level(); }

bool parse_log_level(std::string_view s, LogLevel& out) {
    for (auto l : {LogLevel::kError, LogLevel::kWarn, LogLevel::kInfo, LogLevel::kDebug})
        if (s == log_level_name(l)) {
            out = l;
            return true;
        }
    return false;
}

std::string_view log_level_name(LogLevel level) {
    switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
    }
    return "info";
}

void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
    if (log_enabled(level)) write_line(level, event, fields.begin(), fields.end(), 0);
}

void log(LogLevel level, std::string_view event, const std::vector<LogField>& fields) {
    if (log_enabled(level)) write_line(level, event, fields.data(), fields.data() + fields.size(), 0);
}

bool log_limited(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
    if (!log_enabled(level)) return false;
    Bucket& b = t_bucket;
    uint64_t now = monotonic_ms();
    b.tokens += static_cast<double>(now - b.refilled_ms) * kRatePerSecond / 1000.0;
    if (b.tokens > kBurst) b.tokens = kBurst;
    b.refilled_ms = now;
    if (b.tokens < 1) {
        ++b.suppressed;
        return false;
    }
    b.tokens -= 1;
    write_line(level, event, fields.begin(), fields.end(), b.suppressed);
    b.suppressed = 0;
    return true;
}

}  // namespace epws::net
