// ws/url.cc: ws:// and wss:// URL parsing (RFC 6455 §3, RFC 3986 §3 for the generic parts).
// Layer: ws/. Pure.
#include "ws/url.h"

#include <cctype>

namespace epws::ws {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// RFC 3986 §3.2.2: a reg-name is unreserved / pct-encoded / sub-delims; we accept the subset
// host names use (letters, digits, '-', '.', '_', '%').
bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '%';
}

bool is_v6_char(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

}  // namespace

UrlError parse_ws_url(std::string_view url, WsUrl& out) {
    WsUrl u;
    size_t colon = url.find("://");
    if (colon == std::string_view::npos) return UrlError::kBadScheme;
    std::string scheme = lower(url.substr(0, colon));
    if (scheme == "wss") u.secure = true;
    else if (scheme != "ws") return UrlError::kBadScheme;
    std::string_view rest = url.substr(colon + 3);
    // RFC 6455 §3: "Fragment identifiers ... MUST NOT be used on these URIs."
    if (rest.find('#') != std::string_view::npos) return UrlError::kFragment;
    size_t end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, end);
    std::string_view target = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    if (authority.find('@') != std::string_view::npos) return UrlError::kUserInfo;

    std::string_view host, port;
    if (!authority.empty() && authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos) return UrlError::kBadHost;
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':') return UrlError::kBadHost;
        if (!after.empty()) port = after.substr(1);
        if (host.empty()) return UrlError::kNoHost;
        for (char c : host)
            if (!is_v6_char(c)) return UrlError::kBadHost;
        if (after.size() == 1) return UrlError::kBadPort;  // "[::1]:" with no digits
    } else {
        size_t c = authority.rfind(':');
        host = authority.substr(0, c);
        if (c != std::string_view::npos) {
            port = authority.substr(c + 1);
            if (port.empty()) return UrlError::kBadPort;
        }
        if (host.empty()) return UrlError::kNoHost;
        for (char ch : host)
            if (!is_name_char(ch)) return UrlError::kBadHost;
    }
    u.port = u.secure ? 443 : 80;  // RFC 6455 §3: the default ports
    if (!port.empty()) {
        if (port.size() > 5) return UrlError::kBadPort;
        unsigned n = 0;
        for (char ch : port) {
            if (ch < '0' || ch > '9') return UrlError::kBadPort;
            n = n * 10 + static_cast<unsigned>(ch - '0');
        }
        if (n == 0 || n > 65535) return UrlError::kBadPort;
        u.port = static_cast<uint16_t>(n);
    }
    for (char ch : target)
        if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) return UrlError::kBadTarget;
    u.host = lower(host);
    u.target = target.empty() || target.front() == '?' ? "/" + std::string(target) : std::string(target);
    bool v6 = host.find(':') != std::string_view::npos;
    u.host_header = v6 ? "[" + u.host + "]" : u.host;
    // RFC 6455 §4.1 item 4 (RFC 7230 §5.4): the port only when it is not the default.
    if (u.port != (u.secure ? 443 : 80)) u.host_header += ":" + std::to_string(u.port);
    out = std::move(u);
    return UrlError::kNone;
}

std::string_view url_error_text(UrlError e) {
    switch (e) {
    case UrlError::kNone: return "no error";
    case UrlError::kBadScheme: return "the URL must start with ws:// or wss:// (RFC 6455 §3)";
    case UrlError::kNoHost: return "the URL names no host";
    case UrlError::kBadHost: return "the host is not a name, an IPv4 address or a [bracketed] IPv6 address";
    case UrlError::kBadPort: return "the port must be a number from 1 to 65535";
    case UrlError::kFragment: return "a WebSocket URL cannot have a #fragment (RFC 6455 §3)";
    case UrlError::kUserInfo: return "a WebSocket URL cannot carry user@ information";
    case UrlError::kBadTarget: return "the path or query holds a space or a control character";
    }
    return "unknown error";
}

}  // namespace epws::ws
