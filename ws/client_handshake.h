// ws/client_handshake.h: the client's side of the WebSocket opening handshake (RFC 6455 §4.1):
// the request it sends and the checks of the server's answer. Layer: ws/ (pure codec: no I/O;
// OpenSSL for SHA-1 and randomness only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ws/handshake.h"
#include "ws/http/request.h"

namespace epws::ws {

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
