// net/log.h: the server's log: one line per event a person cares about, on stderr, with a level,
// as text or JSON lines, and per-connection events rate-limited so that an attack cannot flood
// it. Layer: net/ (every layer above logs through it). Thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace epws::net {

enum class LogLevel : uint8_t { kError, kWarn, kInfo, kDebug };
enum class LogFormat : uint8_t { kText, kJson };

// Process-wide; any thread may change them at any time (SIGHUP), relaxed atomics inside.
void set_log_level(LogLevel level);
void set_log_format(LogFormat format);
LogLevel log_level();
LogFormat log_format();
bool parse_log_level(std::string_view s, LogLevel& out);  // error, warn, info, debug
std::string_view log_level_name(LogLevel level);

// Cheap enough for a hot path: one relaxed load. Check it before building fields.
bool log_enabled(LogLevel level);

struct LogField {
    std::string_view key;
    std::string_view value;
};

// Writes one line: time, level, event, then the fields (text: key=value, quoted when needed;
// json: one object). One write(2), so lines from several threads never interleave.
void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
void log(LogLevel level, std::string_view event, const std::vector<LogField>& fields);
// The same for events a peer can cause (a refused handshake, a close): at most 20 a second
// per thread with bursts of 100; what is dropped is counted and reported by the next line that
// passes ("suppressed" field). False when this one was dropped.
bool log_limited(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

}  // namespace epws::net
