// chat/program/option_values.h: the value parsers the flag table (options.cc) is built from.
// Layer: chat/program/. Each returns "" or what is wrong with the value, for the one line the
// user sees ("epws: --flag VALUE: <reason>"); out is set only on success.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace epws::chat {

// An integer in [lo, hi], with an optional binary suffix k, m or g ("16m" = 16 MiB).
std::string parse_size(std::string_view v, uint64_t lo, uint64_t hi, uint64_t& out);
// Seconds with decimals ("0.5") into milliseconds, in [0, max_s].
std::string parse_seconds(std::string_view v, double max_s, uint32_t& out_ms);
// A numeric IPv4 or IPv6 address (no names).
std::string parse_host(std::string_view v, std::string& out);
// A directory that exists now.
std::string parse_web_root(std::string_view v, std::string& out);
// Comma-separated items, empty ones dropped.
std::vector<std::string> split_list(std::string_view v);
// A number above 0 and at most 10^6 (a rate per second).
std::string parse_rate(std::string_view v, double& out);
// The first 4 KiB of the file at path, line ends trimmed, as a JWT secret (chat/jwt's rules).
std::string read_secret(const std::string& path, std::string& out);

// An integer in [lo, hi] (no suffix) into a small field.
template <class T>
std::string small_int(std::string_view v, int lo, int hi, T& out) {
    int n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return "expects a whole number";
    if (n < lo || n > hi) return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
    out = static_cast<T>(n);
    return "";
}

}  // namespace epws::chat
