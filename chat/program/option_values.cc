// chat/program/option_values.cc: what a flag's value may be (sizes with suffixes, seconds,
// addresses, directories, lists, rates, secret files), each checked with a reason when wrong.
// Layer: chat/program/.
#include "chat/program/option_values.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "chat/jwt.h"

namespace epws::chat {

// An integer in [lo, hi], with an optional binary suffix k, m or g ("16m" = 16 MiB).
std::string parse_size(std::string_view v, uint64_t lo, uint64_t hi, uint64_t& out) {
    uint64_t mult = 1;
    if (!v.empty()) {
        char s = v.back();
        if (s == 'k' || s == 'K') mult = 1ull << 10;
        if (s == 'm' || s == 'M') mult = 1ull << 20;
        if (s == 'g' || s == 'G') mult = 1ull << 30;
        if (mult != 1) v.remove_suffix(1);
    }
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size())
        return "expects a whole number with an optional suffix k, m or g (KiB, MiB, GiB)";
    if (n > hi / mult || n * mult < lo || n * mult > hi)
        return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
    out = n * mult;
    return "";
}

// Seconds with decimals ("0.5") into milliseconds, in [0, max_s].
std::string parse_seconds(std::string_view v, double max_s, uint32_t& out_ms) {
    double s = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(s))
        return "expects seconds, e.g. 10 or 0.5";
    if (s < 0 || s > max_s) return "must be between 0 and " + std::to_string(static_cast<int>(max_s));
    out_ms = static_cast<uint32_t>(std::llround(s * 1000));
    return "";
}

// RFC 4291 and inet_pton(3): a numeric address only, no names (no resolver at start-up), so a
// typo is a usage error here rather than a failed bind later.
std::string parse_host(std::string_view v, std::string& out) {
    std::string s(v);
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, s.c_str(), buf) != 1 && inet_pton(AF_INET6, s.c_str(), buf) != 1)
        return "expects a numeric IPv4 or IPv6 address, e.g. 127.0.0.1, 0.0.0.0 or ::1";
    out = std::move(s);
    return "";
}

// The directory must exist now: a missing or mistyped --web-root would otherwise start a server
// that answers 404 to every page.
std::string parse_web_root(std::string_view v, std::string& out) {
    std::string s(v);
    struct stat st {};
    if (::stat(s.c_str(), &st) != 0) return std::string("cannot open: ") + std::strerror(errno);
    if (!S_ISDIR(st.st_mode)) return "is not a directory";
    out = std::move(s);
    return "";
}

std::vector<std::string> split_list(std::string_view v) {
    std::vector<std::string> out;
    while (!v.empty()) {
        size_t comma = v.find(',');
        std::string_view item = v.substr(0, comma);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
    return out;
}

std::string parse_rate(std::string_view v, double& out) {
    double d = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !(d > 0) || d > 1e6)
        return "expects a number above 0, e.g. 20 or 0.5";
    out = d;
    return "";
}

std::string read_secret(const std::string& path, std::string& out) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return std::string("cannot read: ") + std::strerror(errno);
    char buf[4096];
    size_t n = std::fread(buf, 1, sizeof(buf), f);
    std::fclose(f);
    std::string s(buf, n);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (std::string e = secret_problem(s); !e.empty()) return e;
    out = s;
    return "";
}

}  // namespace epws::chat
