// chat/web_api.h: the small JSON endpoints the browser client uses beside /chat:
// GET /api/whoami (may this identity connect?) and the pieces of GET /api/connections (the
// /inspect page's view of the server). Layer: chat/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "chat/shared.h"
#include "ws/deflate_params.h"
#include "ws/server.h"

namespace epws::chat {

// GET /api/whoami?username=U&token=T: the same identity check as the /chat handshake, so a
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

// One connection of the answering loop as a JSON object.
void append_connection(std::string& out, std::string_view user, size_t rooms,
                       const ws::DeflateParams& deflate, size_t queued_bytes);

}  // namespace epws::chat
