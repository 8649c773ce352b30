// ws/error.cc: the one table from failure cause to HTTP status / close code and reason.
// Layer: ws/.
#include "ws/error.h"

namespace epws::ws {
namespace {

struct HttpRow {
    int status;
    std::string_view reason;
};

// Indexed by HttpError; the static_assert below keeps it in step with the enum.
constexpr HttpRow kHttpTable[] = {
    {200, "ok"},
    {400, "malformed request line"},
    {505, "HTTP version not supported"},
    {400, "malformed header line"},
    {431, "request headers too large"},
    {431, "too many request headers"},
    {414, "request target too long"},
    {400, "request bodies are not accepted"},
    {405, "WebSocket upgrade requires GET"},
    {400, "WebSocket upgrade requires HTTP/1.1"},
    {400, "missing Host header"},
    {400, "more than one Host header"},
    {426, "this endpoint speaks WebSocket only (missing Upgrade: websocket)"},
    {400, "Connection header lacks the Upgrade token"},
    {400, "missing Sec-WebSocket-Key"},
    {400, "Sec-WebSocket-Key must be base64 of 16 bytes"},
    {426, "unsupported Sec-WebSocket-Version (this server speaks 13)"},
    {403, "origin not allowed"},
    {404, "not found"},
    {503, "server busy, retry later"},
    {500, "internal error"},
    {401, "missing, invalid or expired token"},
    {429, "too many connections for this user"},
    {400, "Host header is not host[:port]"},
    {400, "more than one Sec-WebSocket-Version header"},
};
static_assert(std::size(kHttpTable) == kHttpErrorCount);

struct CloseRow {
    CloseCode code;
    std::string_view reason;
};

// Indexed by ProtocolError.
constexpr CloseRow kCloseTable[] = {
    {CloseCode::kNormal, ""},
    {CloseCode::kProtocolError, "reserved bits set"},
    {CloseCode::kProtocolError, "reserved opcode"},
    {CloseCode::kProtocolError, "client frame not masked"},
    {CloseCode::kProtocolError, "server frame masked"},
    {CloseCode::kProtocolError, "control frame over 125 bytes"},
    {CloseCode::kProtocolError, "fragmented control frame"},
    {CloseCode::kProtocolError, "bad payload length"},
    {CloseCode::kProtocolError, "continuation without a message"},
    {CloseCode::kProtocolError, "expected a continuation frame"},
    {CloseCode::kProtocolError, "close payload of 1 byte"},
    {CloseCode::kProtocolError, "invalid close code"},
    {CloseCode::kInvalidPayload, "close reason is not UTF-8"},
    {CloseCode::kInvalidPayload, "text is not valid UTF-8"},
    {CloseCode::kMessageTooBig, "message too big"},
    {CloseCode::kMessageTooBig, "too many fragments"},
    {CloseCode::kInvalidPayload, "corrupt deflate data"},
    {CloseCode::kMessageTooBig, "inflated message too big"},
    {CloseCode::kPolicyViolation, "send buffer full: peer not reading"},
    {CloseCode::kGoingAway, "timeout"},
    {CloseCode::kInternalError, "compression failed on the server"},
};
static_assert(std::size(kCloseTable) == static_cast<size_t>(ProtocolError::kDeflateFailed) + 1);

}  // namespace

int http_status(HttpError e) { return kHttpTable[static_cast<size_t>(e)].status; }
std::string_view http_reason(HttpError e) { return kHttpTable[static_cast<size_t>(e)].reason; }

std::string_view http_error_name(HttpError e) {
    // Indexed by HttpError, like kHttpTable.
    static constexpr std::string_view kNames[] = {
        "none", "bad_request_line", "bad_version", "bad_header_line", "headers_too_large",
        "too_many_headers", "uri_too_long", "bad_content_length", "method_not_allowed",
        "upgrade_needs_http11", "missing_host", "duplicate_host", "missing_upgrade",
        "missing_connection", "missing_key", "bad_key", "bad_ws_version", "origin_not_allowed",
        "not_found", "service_unavailable", "internal", "unauthorized", "too_many_connections",
        "bad_host", "duplicate_ws_version"};
    static_assert(std::size(kNames) == kHttpErrorCount);
    return kNames[static_cast<size_t>(e)];
}
CloseCode close_code(ProtocolError e) { return kCloseTable[static_cast<size_t>(e)].code; }
std::string_view close_reason(ProtocolError e) { return kCloseTable[static_cast<size_t>(e)].reason; }

bool is_valid_wire_close_code(uint32_t code) {
    // RFC 6455 §7.4.1/§7.4.2: 1004-1006 and 1015 are reserved and never sent; 1012-1014 are
    // registered with IANA since; 1016-2999 are reserved for future RFCs; 3000-4999 belong to
    // libraries and applications.
    if (code >= 1000 && code <= 1003) return true;
    if (code >= 1007 && code <= 1014) return true;
    return code >= 3000 && code <= 4999;
}

}  // namespace epws::ws
