// ws/handshake.h: the server's side of the WebSocket opening handshake (RFC 6455 §4.2) over a
// parsed HTTP request. Layer: ws/ (pure codec: no I/O; OpenSSL for SHA-1 only). The client's side
// is ws/client_handshake.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ws/deflate_params.h"
#include "ws/error.h"
#include "ws/http/request.h"

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

// Outcome of check_upgrade. `key` and the lines of `extensions` view the request's buffer (valid
// while it is unchanged); `subprotocol` views the chosen string in HandshakeConfig::subprotocols
// (valid while the config is unchanged).
struct UpgradeRequest {
    HttpError error = HttpError::kNone;
    std::string_view key;          // Sec-WebSocket-Key as sent (24 chars)
    std::string_view subprotocol;  // chosen subprotocol, or empty for none
    // Every Sec-WebSocket-Extensions line, raw, in order, for a later permessage-deflate
    // negotiation (RFC 9110 §5.3: they are one list); empty if none.
    ExtensionField extensions;
};

// Does the request ask for WebSocket (an Upgrade header with the token "websocket",
// case-insensitive)? Lets the caller tell an upgrade attempt from plain HTTP before routing. Pure.
bool is_upgrade_request(const HttpRequest& req);

// Validates an upgrade request (RFC 6455 §4.2.1) and chooses a subprotocol (§4.2.2). Checks in
// order: GET, HTTP/1.1, exactly one Host, Upgrade: websocket, Connection containing Upgrade,
// exactly one Sec-WebSocket-Version line, and it 13, exactly one Sec-WebSocket-Key decoding to 16
// bytes, Origin in the
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

}  // namespace epws::ws
