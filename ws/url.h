// ws/url.h: ws:// and wss:// URLs (RFC 6455 §3) split into what a client connects to and sends.
// Layer: ws/ (pure: no I/O, no name resolution).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace epws::ws {

// One cause per way a URL can be wrong.
enum class UrlError : uint8_t {
    kNone,
    kBadScheme,    // not ws:// or wss:// (RFC 6455 §3: the only two schemes)
    kNoHost,       // nothing between "//" and the port, path or end
    kBadHost,      // an unclosed "[", or a character no host name or address has
    kBadPort,      // a port that is empty, not decimal, 0 or above 65535
    kFragment,     // a "#": RFC 6455 §3 forbids fragment identifiers in WebSocket URIs
    kUserInfo,     // "user@host": no WebSocket URI carries user information (§3)
    kBadTarget,    // a space or control character in the path or query
};

struct WsUrl {
    bool secure = false;       // wss:// (TLS, default port 443) rather than ws:// (port 80)
    std::string host;          // as written, without the brackets of an IPv6 literal
    uint16_t port = 0;         // the given port, or the scheme's default
    std::string target;        // "/path?query" for the request line; "/" when the URL has none
    std::string host_header;   // the Host value (§4.1 item 4): host, brackets kept, and the
                               // port only when it is not the scheme's default
};

// Parses url into out (filled only on kNone). Scheme and host are case-insensitive and come out
// lowercase. Pure.
UrlError parse_ws_url(std::string_view url, WsUrl& out);

// One readable line for an error ("the scheme must be ws:// or wss://").
std::string_view url_error_text(UrlError e);

}  // namespace epws::ws
