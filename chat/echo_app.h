// chat/echo_app.h: the tutorial's first endpoints: /echo over WebSocket and plain HTTP,
// /broadcast (every message to every subscriber), plus /healthz and /stats. Layer: chat/.
#pragma once

#include <vector>

#include "ws/server.h"

namespace epws::chat {

// Loop thread only. stats is read for /stats and not owned.
class EchoApp final : public ws::Application {
public:
    void set_stats_source(const ws::ServerStats* stats) { stats_ = stats; }

    void on_http(const ws::HttpRequest& req, ws::HttpReply& reply) override;
    bool accepts_websocket(std::string_view path) override {
        return path == "/echo" || path == "/broadcast";
    }
    void on_open(ws::ServerConnection& ws, const ws::HttpRequest& req) override;
    // /echo: echoes text as text and binary as binary, from the receive buffer without a copy.
    // /broadcast: sends the message to every /broadcast connection, the sender included; the
    // frame header is encoded once, the payload is not copied per recipient, and it is
    // compressed once for every recipient with shared-mode permessage-deflate.
    void on_message(ws::ServerConnection& ws, ws::Opcode op,
                    std::span<const std::byte> payload) override;
    void on_close(ws::ServerConnection& ws, uint16_t code) override;
    size_t subscribers() const { return subscribers_.size(); }

private:
    const ws::ServerStats* stats_ = nullptr;
    // /broadcast connections; each one's app_tag() is its index here plus 1 (0 = /echo).
    std::vector<ws::ServerConnection*> subscribers_;
};

// The counters as one JSON object.
std::string stats_json(const ws::ServerStats& s);

}  // namespace epws::chat
