// ws/handshake.cc: RFC 6455 §4 opening handshake, server and client sides, and the plain HTTP
// responses. Layer: ws/. No I/O; OpenSSL for SHA-1 and RAND_bytes, every return value checked.
#include "ws/handshake.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <cstring>
#include <memory>
#include <span>

#include "ws/base64.h"

namespace epws::ws {
namespace {

constexpr size_t kKeyBytes = 16;  // RFC 6455 §4.1 item 7: the key is base64 of 16 random bytes
constexpr size_t kSha1Bytes = 20;

size_t count_headers(std::span<const Header> headers, std::string_view name) {
    size_t n = 0;
    for (const Header& h : headers) n += ascii_iequals(h.name, name) ? 1U : 0U;
    return n;
}

// RFC 7230 §3.2.2: a list-valued header may be split over several lines; all of them count.
bool any_header_has_token(std::span<const Header> headers, std::string_view name,
                          std::string_view token) {
    for (const Header& h : headers) {
        if (ascii_iequals(h.name, name) && header_has_token(h.value, token)) return true;
    }
    return false;
}

void append_number(std::string& out, size_t n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, ec == std::errc{} ? static_cast<size_t>(end - buf) : 0);
}

// Request-level requirements of RFC 6455 §4.2.1 items 1-4.
HttpError check_request_basics(const HttpRequest& req) {
    if (req.method != "GET") return HttpError::kMethodNotAllowed;      // item 1: the method is GET
    if (req.minor_version < 1) return HttpError::kUpgradeNeedsHttp11;  // item 1: HTTP/1.1 or higher
    // Item 2 and RFC 7230 §5.4: exactly one Host header.
    size_t hosts = count_headers(req.headers, "host");
    if (hosts == 0) return HttpError::kMissingHost;
    if (hosts > 1) return HttpError::kDuplicateHost;
    // Item 3: Upgrade contains "websocket" (RFC 6455 §11.2: case-insensitive).
    if (!any_header_has_token(req.headers, "upgrade", "websocket"))
        return HttpError::kMissingUpgrade;
    // Item 4: Connection contains the "Upgrade" token (RFC 7230 §6.1: case-insensitive).
    if (!any_header_has_token(req.headers, "connection", "upgrade")) {
        return HttpError::kMissingConnection;
    }
    return HttpError::kNone;
}

// RFC 6455 §4.2.1 item 5: one Sec-WebSocket-Key whose base64 decodes to exactly 16 bytes (§11.3.1:
// it must not appear more than once).
HttpError check_key(const HttpRequest& req, std::string_view& key) {
    size_t keys = count_headers(req.headers, "sec-websocket-key");
    if (keys == 0) return HttpError::kMissingKey;
    if (keys > 1) return HttpError::kBadKey;
    key = *req.find("sec-websocket-key");
    std::array<std::byte, base64_encoded_size(kKeyBytes) / 4 * 3> raw;  // room for padding bytes
    std::optional<size_t> n = base64_decode(key, raw);
    return n && *n == kKeyBytes ? HttpError::kNone : HttpError::kBadKey;
}

// RFC 6455 §4.2.1 item 8 and §10.2: Origin lets the server refuse pages from other sites (browsers
// always send it; other clients can forge it, so the list only guards browser users).
bool origin_allowed(const HttpRequest& req, const HandshakeConfig& config) {
    if (config.allowed_origins.empty()) return true;
    const std::string_view* origin = req.find("origin");
    if (origin == nullptr) return false;
    for (const std::string& allowed : config.allowed_origins) {
        if (ascii_iequals(*origin, allowed)) return true;  // RFC 6454 §4: scheme and host fold case
    }
    return false;
}

// RFC 6455 §4.2.2 item 5.4 (/subprotocol/): the first server-preferred protocol the client offered.
// Names compare byte for byte: browsers fail the connection unless the answer equals one of their
// offers exactly (RFC 6455 §4.1 client check 6; the WHATWG WebSocket standard compares strings).
std::string_view choose_subprotocol(const HttpRequest& req, const HandshakeConfig& config) {
    for (const std::string& ours : config.subprotocols) {
        for (const Header& h : req.headers) {
            if (!ascii_iequals(h.name, "sec-websocket-protocol")) continue;
            std::string_view rest = h.value;
            while (auto offered = next_list_element(rest)) {
                if (*offered == ours) return ours;
            }
        }
    }
    return {};
}

// Status line, Content-Type (if any), Content-Length (where the status allows a body), extra
// headers, Connection and the blank line.
void append_head(std::string& out, int status, std::string_view content_type, size_t body_size,
                 std::string_view connection, std::string_view extra_headers) {
    out += "HTTP/1.1 ";
    append_number(out, static_cast<size_t>(status));
    out += ' ';
    out += status_text(status);
    out += "\r\n";
    if (!content_type.empty()) {
        out += "Content-Type: ";
        out += content_type;
        out += "\r\n";
    }
    if (status_has_content(status)) {
        out += "Content-Length: ";
        append_number(out, body_size);
        out += "\r\n";
    }
    out += extra_headers;
    out += "Connection: ";
    out += connection;
    out += "\r\n\r\n";
}

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

bool is_upgrade_request(const HttpRequest& req) {
    return any_header_has_token(req.headers, "upgrade", "websocket");
}

UpgradeRequest check_upgrade(const HttpRequest& req, const HandshakeConfig& config) {
    UpgradeRequest r;
    r.error = check_request_basics(req);
    if (r.error != HttpError::kNone) return r;
    // RFC 6455 §4.2.1 item 6 / §4.4: only version 13 is spoken; anything else gets 426 + our
    // version. The version is checked before the key so that an old client learns which version to
    // retry with.
    const std::string_view* version = req.find("sec-websocket-version");
    if (version == nullptr || *version != "13") {
        r.error = HttpError::kBadWsVersion;
        return r;
    }
    r.error = check_key(req, r.key);
    if (r.error != HttpError::kNone) return r;
    if (!origin_allowed(req, config)) {
        r.error = HttpError::kOriginNotAllowed;
        return r;
    }
    r.subprotocol = choose_subprotocol(req, config);
    // RFC 6455 §4.2.1 item 9: extensions are negotiated later from this raw offer.
    if (const std::string_view* ext = req.find("sec-websocket-extensions")) r.extensions = *ext;
    return r;
}

bool accept_key(std::string_view key, char out[kAcceptKeySize]) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::array<std::byte, kSha1Bytes> digest;
    unsigned int len = 0;
    // RFC 6455 §4.2.2 item 5.4: SHA-1 over the key as sent (not decoded) followed by the GUID.
    bool ok =
        ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) == 1 &&
        EVP_DigestUpdate(ctx.get(), key.data(), key.size()) == 1 &&
        EVP_DigestUpdate(ctx.get(), kWebSocketGuid.data(), kWebSocketGuid.size()) == 1 &&
        EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(digest.data()), &len) == 1 &&
        len == kSha1Bytes;
    if (!ok) return false;
    std::array<char, kAcceptKeySize + 1> text;  // + OpenSSL's NUL
    if (base64_encode(digest, text) != kAcceptKeySize) return false;
    std::memcpy(out, text.data(), kAcceptKeySize);
    return true;
}

bool append_upgrade_response(std::string& out, std::string_view key, std::string_view subprotocol,
                             std::string_view extensions_answer) {
    char accept[kAcceptKeySize];
    if (!accept_key(key, accept)) return false;
    // RFC 6455 §4.2.2 item 5: 101, Upgrade, Connection and Sec-WebSocket-Accept are required.
    out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    out += "Sec-WebSocket-Accept: ";
    out.append(accept, kAcceptKeySize);
    out += "\r\n";
    if (!subprotocol.empty()) {
        out += "Sec-WebSocket-Protocol: ";
        out += subprotocol;
        out += "\r\n";
    }
    if (!extensions_answer.empty()) {
        out += "Sec-WebSocket-Extensions: ";
        out += extensions_answer;
        out += "\r\n";
    }
    out += "\r\n";
    return true;
}

std::string_view status_text(int status) {
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void append_http_response(std::string& out, int status, std::string_view content_type,
                          std::string_view body, bool keep_alive, std::string_view extra_headers) {
    append_head(out, status, content_type, body.size(), keep_alive ? "keep-alive" : "close",
                extra_headers);
    out += body;
}

void append_http_error(std::string& out, HttpError e) {
    const int status = http_status(e);
    std::string_view extra;
    std::string_view connection = "close";
    if (status == 426) {
        // RFC 7231 §6.5.15: a 426 names the protocol to upgrade to; RFC 7230 §6.7: a sender of
        // Upgrade also lists it in Connection. RFC 6455 §4.4: a version mismatch names the versions
        // we speak.
        extra = e == HttpError::kBadWsVersion
                    ? "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    : "Upgrade: websocket\r\n";
        connection = "Upgrade, close";
    } else if (status == 405) {
        extra = "Allow: GET\r\n";  // RFC 7231 §6.5.5: a 405 must list the allowed methods
    } else if (status == 503) {
        extra = "Retry-After: 1\r\n";  // RFC 7231 §7.1.3: a hint for well-behaved clients
    }
    std::string_view reason = http_reason(e);
    append_head(out, status, "text/plain; charset=utf-8", reason.size() + 1, connection, extra);
    out += reason;
    out += '\n';
}

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
