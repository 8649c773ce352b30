// chat/echo_app.h: the tutorial's first endpoint: /echo over WebSocket and plain HTTP,
// plus /healthz and /stats. Layer: chat/.
#pragma once

#include "ws/server.h"

namespace epws::chat {

// Loop thread only. stats is read for /stats and not owned.
class EchoApp final : public ws::Application {
public:
    void set_stats_source(const ws::ServerStats* stats) { stats_ = stats; }

    void on_http(const ws::HttpRequest& req, ws::HttpReply& reply) override;
    bool accepts_websocket(std::string_view path) override { return path == "/echo"; }
    // Echoes text as text and binary as binary, from the receive buffer without a copy.
    void on_message(ws::ServerConnection& ws, ws::Opcode op,
                    std::span<const std::byte> payload) override;

private:
    const ws::ServerStats* stats_ = nullptr;
};

// The counters as one JSON object.
std::string stats_json(const ws::ServerStats& s);

}  // namespace epws::chat
