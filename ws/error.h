// ws/error.h: every way a handshake or a frame stream can fail, one value per cause.
// Layer: ws/. One table (error.cc) maps each cause to its HTTP status or close code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace epws::ws {

// Why an HTTP request (or the WebSocket upgrade it asks for) was refused.
enum class HttpError : uint8_t {
    kNone,
    kBadRequestLine,       // not "METHOD SP target SP HTTP/x.y CRLF"
    kBadVersion,           // not HTTP/1.0 or HTTP/1.1
    kBadHeaderLine,        // header line without ':' or with a bad name
    kHeadersTooLarge,      // request line + headers over the byte limit -> 431
    kTooManyHeaders,       // more header fields than the limit -> 431
    kUriTooLong,           // request target over the limit -> 414
    kBadContentLength,     // a body is announced (we accept none) -> 400
    kMethodNotAllowed,     // upgrade with a method other than GET -> 405
    kUpgradeNeedsHttp11,   // upgrade on HTTP/1.0 -> 400
    kMissingHost,          // HTTP/1.1 without a Host header (RFC 9112 §3.2) -> 400
    kDuplicateHost,        // more than one Host header (RFC 9112 §3.2) -> 400
    kMissingUpgrade,       // no "Upgrade: websocket" -> 426 (plain HTTP on a WS-only path)
    kMissingConnection,    // "Connection" lacks the "Upgrade" token -> 400
    kMissingKey,           // no Sec-WebSocket-Key -> 400
    kBadKey,               // key does not decode to 16 bytes -> 400
    kBadWsVersion,         // Sec-WebSocket-Version is not 13 -> 426 + Sec-WebSocket-Version: 13
    kOriginNotAllowed,     // Origin not in the allow-list -> 403
    kNotFound,             // unknown path -> 404
    kServiceUnavailable,   // over a connection cap -> 503
    kInternal,             // our own failure (OpenSSL refused to hash) -> 500
    kUnauthorized,         // the application refused the credentials -> 401
    kTooManyConnections,   // the application's per-user connection limit -> 429
    kBadHost,              // a Host value that is not host[:port] (RFC 9112 §3.2) -> 400
    kDuplicateWsVersion,   // more than one Sec-WebSocket-Version line -> 400
};
// One past the last cause (counters are indexed by cause): error.cc checks both of its tables
// against it, so a new cause added without its row and its name does not build.
constexpr size_t kHttpErrorCount = static_cast<size_t>(HttpError::kDuplicateWsVersion) + 1;

// Why the server (or client) failed a WebSocket connection after the upgrade.
enum class ProtocolError : uint8_t {
    kNone,
    kReservedBits,          // RSV1-3 set with no extension that defines them -> 1002
    kReservedOpcode,        // opcode 3-7 or 0xB-0xF -> 1002
    kUnmaskedClientFrame,   // client frame without mask (server side) -> 1002
    kMaskedServerFrame,     // server frame with mask (client side) -> 1002
    kControlTooLong,        // control frame payload over 125 bytes -> 1002
    kControlFragmented,     // control frame with FIN = 0 -> 1002
    kBadLength,             // 64-bit length with the top bit set, or a non-minimal length -> 1002
    kUnexpectedContinuation,// continuation frame with no message in progress -> 1002
    kExpectedContinuation,  // new data frame while a fragmented message is in progress -> 1002
    kBadCloseLength,        // close payload of exactly 1 byte -> 1002
    kBadCloseCode,          // close code not allowed on the wire -> 1002
    kBadCloseReason,        // close reason is not valid UTF-8 -> 1007
    kInvalidUtf8,           // text message is not valid UTF-8 -> 1007
    kMessageTooBig,         // message over the size limit -> 1009
    kTooManyFragments,      // message over the fragment-count limit -> 1009
    kBadDeflateData,        // permessage-deflate data does not inflate -> 1007
    kInflateTooBig,         // inflated message over the size limit -> 1009
    kOutputOverflow,        // peer does not read; output over its cap -> 1008
    kTimeout,               // idle or close timeout -> 1001 (never sent if the peer is gone)
    kDeflateFailed,         // zlib failed on our side (out of memory) -> 1011
};

// Close status codes, RFC 6455 §7.4.1.
enum class CloseCode : uint16_t {
    kNormal = 1000,
    kGoingAway = 1001,
    kProtocolError = 1002,
    kUnsupportedData = 1003,
    kNoStatus = 1005,         // never on the wire
    kAbnormal = 1006,         // never on the wire
    kInvalidPayload = 1007,
    kPolicyViolation = 1008,
    kMessageTooBig = 1009,
    kMandatoryExtension = 1010,
    kInternalError = 1011,
    kTryAgainLater = 1013,
};

// HTTP status to answer with for a refused request (400, 404, 426, 431, ...).
int http_status(HttpError e);
// The one-line reason put in the response body, e.g. "missing Sec-WebSocket-Key".
std::string_view http_reason(HttpError e);
// A stable snake_case name of the cause, for metric labels and logs ("bad_key").
std::string_view http_error_name(HttpError e);

// Close code to send for a protocol failure (1002, 1007, 1009, ...).
CloseCode close_code(ProtocolError e);
// A short reason for the close frame and the log, at most 123 bytes, valid UTF-8.
std::string_view close_reason(ProtocolError e);

// RFC 6455 §7.4: may `code` appear in a close frame received from the peer?
// 1000-1003, 1007-1014 and 3000-4999 may; 0-999, 1004-1006, 1015-2999 and 5000+ may not.
bool is_valid_wire_close_code(uint32_t code);

}  // namespace epws::ws
