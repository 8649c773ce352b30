// ws/client_handshake.cc: RFC 6455 §4.1, the client's request and its checks of the answer.
// Layer: ws/. No I/O; OpenSSL's RAND_bytes for the key, every return value checked.
#include "ws/client_handshake.h"

#include <openssl/rand.h>

#include <array>
#include <span>

#include "ws/base64.h"

namespace epws::ws {
namespace {

constexpr size_t kKeyBytes = 16;  // RFC 6455 §4.1 item 7: the key is base64 of 16 random bytes

// RFC 7230 §3.1.2: status-line = HTTP-version SP status-code SP reason-phrase. A missing SP before
// an empty reason is tolerated (RFC 9112 §4 asks clients to accept it).
bool parse_status_line(std::string_view line, HttpResponse& out) {
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[7] < '0' || line[7] > '9' ||
        line[8] != ' ') {
        return false;
    }
    out.status = 0;
    for (char c : line.substr(9, 3)) {
        if (c < '0' || c > '9') return false;
        out.status = out.status * 10 + (c - '0');
    }
    if (line.size() > 12 && line[12] != ' ') return false;
    out.reason = line.size() > 13 ? line.substr(13) : std::string_view{};
    return is_field_value(out.reason);
}

ResponseError response_fault(HeadFault f) {
    switch (f) {
    case HeadFault::kBareLfInStartLine: return ResponseError::kBadStatusLine;
    case HeadFault::kBareLfInHeaders: return ResponseError::kBadHeaderLine;
    case HeadFault::kTooLarge: return ResponseError::kTooLarge;
    case HeadFault::kNone: break;
    }
    return ResponseError::kBadStatusLine;
}

// RFC 6455 §4.1 client requirement 6: a chosen subprotocol must be one we offered, exactly once.
bool subprotocol_acceptable(const HttpResponse& resp, std::string_view offered) {
    size_t count = count_headers(resp.headers, "sec-websocket-protocol");
    if (count == 0) return true;
    if (count > 1) return false;
    std::string_view chosen = *resp.find("sec-websocket-protocol");
    while (auto ours = next_list_element(offered)) {
        if (*ours == chosen) return true;
    }
    return false;
}

}  // namespace

std::string make_client_key() {
    std::array<std::byte, kKeyBytes> raw;
    // RFC 6455 §4.1 item 7: a nonce randomly selected for each connection.
    auto* buf = reinterpret_cast<unsigned char*>(raw.data());
    if (RAND_bytes(buf, static_cast<int>(raw.size())) != 1) return {};
    return base64_encode(raw);
}

void append_client_request(std::string& out, std::string_view host, std::string_view path_and_query,
                           std::string_view key, std::string_view subprotocols,
                           std::string_view extensions, std::string_view extra_headers) {
    out += "GET ";
    out += path_and_query;
    out += " HTTP/1.1\r\nHost: ";
    out += host;
    out += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    out += key;
    out += "\r\nSec-WebSocket-Version: 13\r\n";
    if (!subprotocols.empty()) {
        out += "Sec-WebSocket-Protocol: ";
        out += subprotocols;
        out += "\r\n";
    }
    if (!extensions.empty()) {
        out += "Sec-WebSocket-Extensions: ";
        out += extensions;
        out += "\r\n";
    }
    out += extra_headers;
    out += "\r\n";
}

ResponseParseResult parse_response(std::string_view data, size_t& scanned, const HttpLimits& limits,
                                   HttpResponse& out) {
    HeadSpan span = find_head(data, scanned, limits.max_header_bytes, 0);
    if (span.status == ParseStatus::kNeedMore) {
        return {ParseStatus::kNeedMore, 0, ResponseError::kNone};
    }
    scanned = 0;
    if (span.status == ParseStatus::kError)
        return {ParseStatus::kError, 0, response_fault(span.fault)};
    HeadParts parts = split_head(data.substr(span.begin, span.end - span.begin));
    ResponseError e = ResponseError::kNone;
    if (!parse_status_line(parts.start_line, out)) {
        e = ResponseError::kBadStatusLine;
    } else {
        HeaderLinesStatus s =
            parse_header_lines(parts.header_lines, limits.max_headers, out.headers);
        if (s == HeaderLinesStatus::kBadLine) e = ResponseError::kBadHeaderLine;
        if (s == HeaderLinesStatus::kTooMany) e = ResponseError::kTooLarge;
    }
    if (e != ResponseError::kNone) return {ParseStatus::kError, 0, e};
    return {ParseStatus::kDone, span.end, ResponseError::kNone};
}

ResponseError check_upgrade_response(const HttpResponse& resp, std::string_view key,
                                     std::string_view offered_subprotocols,
                                     bool offered_extensions) {
    // RFC 6455 §4.1, the client's checks of the server's handshake, items 1-6 in order.
    if (resp.status != 101) return ResponseError::kNotSwitching;
    if (!any_header_has_token(resp.headers, "upgrade", "websocket")) {
        return ResponseError::kMissingUpgrade;
    }
    if (!any_header_has_token(resp.headers, "connection", "upgrade")) {
        return ResponseError::kMissingConnection;
    }
    char expected[kAcceptKeySize];
    const std::string_view* accept = resp.find("sec-websocket-accept");
    if (accept == nullptr || !accept_key(key, expected) ||
        *accept != std::string_view(expected, kAcceptKeySize)) {
        return ResponseError::kBadAccept;
    }
    // Item 5: any extension in the answer must have been offered; which ones is negotiated later.
    if (!offered_extensions && resp.find("sec-websocket-extensions") != nullptr) {
        return ResponseError::kUnexpectedExtension;
    }
    if (!subprotocol_acceptable(resp, offered_subprotocols)) {
        return ResponseError::kUnexpectedSubprotocol;
    }
    return ResponseError::kNone;
}

}  // namespace epws::ws
