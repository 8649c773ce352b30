// chat/program/web_api.h: the small JSON endpoints the browser client uses beside /chat:
// GET /api/whoami (may this identity connect?) and GET /api/connections (the /inspect page's
// view of the server and of one connection, on whichever loop it lives). Layer: chat/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/config.h"
#include "chat/connection_registry.h"
#include "ws/deflate_params.h"
#include "ws/http/request.h"
#include "ws/http/response.h"
#include "ws/server_config.h"

namespace epws::chat {

// GET /api/whoami?username=U&token=T: the /chat handshake's identity check (chat/identity.h), so a
// browser (which sees only close 1006 when the upgrade is refused) can tell "do not retry"
// from "the server is away". 200 {"user":U,"mode":"jwt"|"open"} or 401
// {"error":CODE,"reason":TEXT}. It does not count the user's open connections (a 429 at the
// handshake is temporary: retry with backoff). Never cached.
void whoami(const ChatConfig& config, std::string_view query, ws::HttpReply& reply);

// The opening of the /api/connections document: the answering loop, the server's settings,
// and every loop's live counters (net::Counter: safe to read from any loop), each loop with
// its compression ratio. Ends inside the object, before "connections".
void append_server_view(std::string& out, size_t loop, const ws::ServerConfig& ws_config,
                        const ChatConfig& chat, const std::vector<const ws::ServerStats*>& loops);

// One connection as a JSON object: id, owning loop, user, negotiated permessage-deflate, and its
// counters, each pair as {"in":N,"out":N}, with compression ratios (null before any payload)
// and the last ping's round trip in microseconds (null before the first pong).
void append_connection(std::string& out, const ConnectionView& v);

// A connection id as written in a query: 1 to 20 decimal digits, no sign, no overflow.
bool parse_connection_id(std::string_view text, uint64_t& id);

// At most this many connections in the list form of GET /api/connections (the oldest first).
constexpr size_t kMaxListedConnections = 100;

// Who asks GET /api/connections, and so what the answer may show.
struct ApiViewer {
    bool allowed = false;  // false: 401, nothing shown
    bool all = false;      // every connection (the admin token, or open mode without one)
    std::string user;      // otherwise: only this user's connections
    std::string_view refusal;  // when !allowed: why, for the 401's reason
};

// Judges the request's credential: `Authorization: Bearer T` (RFC 6750 §2.1), else `?token=T`
// (percent-decoded). T equal to chat.admin_token (compared in constant time) sees everything;
// with a JWT secret, a token verify_jwt accepts at `now` sees its sub's connections only; with
// neither secret nor admin token (open development mode) everyone sees everything; anything else
// is refused. Thread-safe.
ApiViewer api_viewer(const ChatConfig& chat, const ws::HttpRequest& req, int64_t now);

// GET /api/connections (loop: the answering one) for `viewer`: 401 {"error":"unauthorized",...}
// with WWW-Authenticate: Bearer (RFC 6750 §3) unless viewer.allowed; then the server view, then
// either "connections" (the first kMaxListedConnections the viewer may see) and
// "connections_total" (how many it may see), or, with ?id=N, "connection": N's object wherever it
// lives. 400 for an id that does not parse, 404 {"error":"not_found",...} when no open /chat
// connection the viewer may see has it (another user's id is not told apart from a closed one).
// Never cached.
void api_connections(std::string_view query, const ApiViewer& viewer, size_t loop,
                     const ws::ServerConfig& ws_config, const ChatConfig& chat,
                     const std::vector<const ws::ServerStats*>& loops,
                     const ConnectionRegistry& registry, ws::HttpReply& reply);

}  // namespace epws::chat
