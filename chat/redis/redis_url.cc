// chat/redis/redis_url.cc: the --redis URL parser. Layer: chat/.
#include "chat/redis/redis_url.h"

#include <charconv>

namespace epws::chat {
namespace {

constexpr std::string_view kScheme = "redis://";
constexpr size_t kMaxUrlBytes = 1024;  // a URL on a command line; longer is a mistake
constexpr uint32_t kMaxDb = 1u << 20;  // Redis' `databases` setting; 16 by default

bool parse_number(std::string_view s, uint64_t max, uint64_t& out) {
    if (s.empty() || s.size() > 10) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && out <= max;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// RFC 3986 §2.1: %XX is the byte XX; a '+' stays a '+' (that rule is only for forms).
bool percent_decode(std::string_view in, std::string& out) {
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return false;
        int hi = hex_value(in[i + 1]);
        int lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return true;
}

bool valid_host(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;  // RFC 1035 §2.3.4: names of 255 octets at most
    for (char c : h) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

bool parse_redis_url(std::string_view text, RedisUrl& url, std::string& err) {
    url = RedisUrl{};
    if (text.size() > kMaxUrlBytes) return err = "the URL is over 1024 bytes", false;
    if (text.substr(0, kScheme.size()) != kScheme)
        return err = "the URL must start with redis:// (rediss:// and unix sockets are not supported)", false;
    text.remove_prefix(kScheme.size());
    std::string_view path;
    if (size_t slash = text.find('/'); slash != std::string_view::npos) {
        path = text.substr(slash + 1);
        text = text.substr(0, slash);
    }
    // The userinfo ends at the last '@' (RFC 3986 §3.2.1); a raw '@' in a password is common.
    if (size_t at = text.rfind('@'); at != std::string_view::npos) {
        std::string_view info = text.substr(0, at);
        text.remove_prefix(at + 1);
        size_t colon = info.find(':');
        std::string_view user = info.substr(0, colon);
        std::string_view pass = colon == std::string_view::npos ? std::string_view() : info.substr(colon + 1);
        if (!percent_decode(user, url.user) || !percent_decode(pass, url.password))
            return err = "bad percent-encoding in the user or password", false;
        if (colon == std::string_view::npos && !url.user.empty())
            return err = "a user needs a password: redis://user:password@host:port", false;
    }
    std::string_view port;
    if (!text.empty() && text.front() == '[') {  // RFC 3986 §3.2.2: an IPv6 literal
        size_t close = text.find(']');
        if (close == std::string_view::npos) return err = "an IPv6 address misses its ']'", false;
        url.host = std::string(text.substr(1, close - 1));
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return err = "expected ':port' after the IPv6 address", false;
            port = rest.substr(1);
            if (port.empty()) return err = "the port is empty", false;
        }
        if (url.host.find(':') == std::string::npos) return err = "not an IPv6 address in [ ]", false;
    } else {
        size_t colon = text.find(':');
        url.host = std::string(text.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = text.substr(colon + 1);
            if (port.empty()) return err = "the port is empty", false;
        }
        if (url.host.find(':') != std::string::npos) return err = "write an IPv6 address in [ ]", false;
    }
    if (!valid_host(url.host)) return err = "the host is missing or holds characters a host cannot", false;
    uint64_t n = 0;
    if (!port.empty()) {
        if (!parse_number(port, 65535, n) || n == 0) return err = "the port must be between 1 and 65535", false;
        url.port = static_cast<uint16_t>(n);
    }
    if (!path.empty()) {
        if (!parse_number(path, kMaxDb, n)) return err = "the database must be a number, /0 to /1048576", false;
        url.db = static_cast<uint32_t>(n);
    }
    return true;
}

}  // namespace epws::chat
