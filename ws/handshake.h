// ws/handshake.h: the WebSocket opening handshake (RFC 6455 §4), both sides, over parsed HTTP
// heads, plus the plain HTTP responses the server sends. Layer: ws/ (pure codec: no I/O; uses
// OpenSSL for SHA-1 and randomness only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ws/error.h"
#include "ws/http_request.h"

namespace epws::ws {

// RFC 6455 §1.3: the GUID appended to the key before hashing.
inline constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// Length of a Sec-WebSocket-Accept value: base64 of a 20-byte SHA-1.
inline constexpr size_t kAcceptKeySize = 28;

// What the server will agree to. Read-only during handshakes; may be shared between threads.
struct HandshakeConfig {
    std::vector<std::string> subprotocols;  // in server preference order; empty = none offered
    std::vector<std::string>
        allowed_origins;  // exact origins ("https://chat.example"); empty = any
};

// Outcome of check_upgrade. `key` and `extensions` view the request's buffer (valid while it is
// unchanged); `subprotocol` views the chosen string in HandshakeConfig::subprotocols (valid while
// the config is unchanged).
struct UpgradeRequest {
    HttpError error = HttpError::kNone;
    std::string_view key;          // Sec-WebSocket-Key as sent (24 chars)
    std::string_view subprotocol;  // chosen subprotocol, or empty for none
    // Value of the first Sec-WebSocket-Extensions header, raw, for a later permessage-deflate
    // negotiation; empty if none. Further Sec-WebSocket-Extensions lines (no browser sends them)
    // are ignored, which only declines those offers, always allowed (RFC 6455 §9.1).
    std::string_view extensions;
};

// Does the request ask for WebSocket (an Upgrade header with the token "websocket",
// case-insensitive)? Lets the caller tell an upgrade attempt from plain HTTP before routing. Pure.
bool is_upgrade_request(const HttpRequest& req);

// Validates an upgrade request (RFC 6455 §4.2.1) and chooses a subprotocol (§4.2.2). Checks in
// order: GET, HTTP/1.1, exactly one Host, Upgrade: websocket, Connection containing Upgrade,
// exactly one Sec-WebSocket-Key decoding to 16 bytes, Sec-WebSocket-Version: 13, Origin in the
// allow-list (a missing Origin fails when the list is non-empty). The first failure is returned in
// `error`. Pure.
UpgradeRequest check_upgrade(const HttpRequest& req, const HandshakeConfig& config);

// Writes base64(SHA-1(key + kWebSocketGuid)) (RFC 6455 §4.2.2 item 5.4) into out, no terminator.
// Returns false only if OpenSSL fails (out is then unspecified). Thread-safe.
bool accept_key(std::string_view key, char out[kAcceptKeySize]);

// Appends the 101 Switching Protocols response (RFC 6455 §4.2.2) to `out`. An empty `subprotocol`
// or `extensions_answer` leaves that header out. Returns false, appending nothing, only if
// computing the accept key fails in OpenSSL; the caller should then refuse with a 500 and close.
bool append_upgrade_response(std::string& out, std::string_view key, std::string_view subprotocol,
                             std::string_view extensions_answer);

// Standard reason phrase for an HTTP status ("Switching Protocols", "Not Found"), or "Unknown".
std::string_view status_text(int status);

// Whether a response with this status carries content (RFC 9110 §6.4.1: 1xx, 204 and 304 never
// do). Responses that do not get no Content-Length either: §8.6 forbids it in 1xx and 204, and
// in a 304 it would have to be the length the 200 would have had (§15.4.5), so it is left out.
constexpr bool status_has_content(int status) {
    return status >= 200 && status != 204 && status != 304;
}

// Appends a complete HTTP/1.1 response: status line, Content-Type (left out if empty),
// Content-Length (left out when !status_has_content(status); body must then be empty),
// `extra_headers` (each a full "Name: value\r\n"), Connection: keep-alive or close, blank line,
// body.
void append_http_response(std::string& out, int status, std::string_view content_type,
                          std::string_view body, bool keep_alive,
                          std::string_view extra_headers = {});

// Appends the refusal for `e` (which must not be kNone): status http_status(e), text/plain body
// http_reason(e) + "\n", Connection: close. A 426 adds "Upgrade: websocket" and the "Upgrade"
// connection option (RFC 7231 §6.5.15, RFC 7230 §6.7); for kBadWsVersion also
// "Sec-WebSocket-Version: 13" (RFC 6455 §4.4). 405 adds "Allow: GET"; 503 adds "Retry-After: 1".
void append_http_error(std::string& out, HttpError e);

// ---- Client side (tests, benchmark client). ----

// A fresh Sec-WebSocket-Key: 16 bytes from RAND_bytes, base64 (24 chars). Empty if RAND_bytes
// fails.
std::string make_client_key();

// Appends a client upgrade request (RFC 6455 §4.1). Empty `subprotocols` (a comma-separated list)
// or `extensions` leave those headers out. extra_headers: more header lines, each a full
// "Name: value\r\n" (Origin, cookies), placed before the blank line as given.
void append_client_request(std::string& out, std::string_view host, std::string_view path_and_query,
                           std::string_view key, std::string_view subprotocols = {},
                           std::string_view extensions = {}, std::string_view extra_headers = {});

enum class ResponseError : uint8_t {
    kNone,
    kBadStatusLine,          // not "HTTP/1.x SP 3DIGIT [SP reason] CRLF"
    kNotSwitching,           // status other than 101
    kBadHeaderLine,          // malformed header line, or bare LF
    kTooLarge,               // head over the byte or header-count limit
    kMissingUpgrade,         // no "Upgrade: websocket"
    kMissingConnection,      // Connection lacks the Upgrade token
    kBadAccept,              // Sec-WebSocket-Accept missing or wrong for our key
    kUnexpectedSubprotocol,  // server chose a subprotocol we did not offer
    kUnexpectedExtension,    // server answered extensions we did not offer
};

// A parsed response head; views into the caller's buffer, valid while it is unchanged. Reuse one
// object so `headers` keeps its capacity. Not thread-safe.
struct HttpResponse {
    int status = 0;
    std::string_view reason;
    std::vector<Header> headers;

    // First header named `name`, case-insensitive; nullptr if absent. Valid until the next parse.
    const std::string_view* find(std::string_view name) const { return find_header(headers, name); }
};

struct ResponseParseResult {
    ParseStatus status;
    size_t consumed;  // bytes of the head incl. CRLFCRLF when kDone; later bytes are frames; else 0
    ResponseError error;
};

// Parses one response head, with the same contract as parse_request for `data` and `scanned`
// (max_target_bytes is unused). Strict CRLF. Fills `out` only on kDone.
ResponseParseResult parse_response(std::string_view data, size_t& scanned, const HttpLimits& limits,
                                   HttpResponse& out);

// Validates a server's answer to our upgrade request (RFC 6455 §4.1, client requirements 1-6): 101,
// Upgrade: websocket, Connection: Upgrade, the accept value for `key`, a subprotocol only if it is
// one of `offered_subprotocols` (comma-separated; case-sensitive), extensions only if we offered
// some. Pure.
ResponseError check_upgrade_response(const HttpResponse& resp, std::string_view key,
                                     std::string_view offered_subprotocols,
                                     bool offered_extensions);

}  // namespace epws::ws
