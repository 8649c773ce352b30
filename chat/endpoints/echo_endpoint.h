// chat/endpoints/echo_endpoint.h: /echo, every message back to its sender, over WebSocket and
// over plain HTTP (GET /echo?message=TEXT). Layer: chat/.
#pragma once

#include "ws/endpoint.h"
#include "ws/http/request.h"
#include "ws/http/response.h"

namespace epws::chat {

// Stateless: an idle /echo connection costs it nothing. Loop thread only.
class EchoEndpoint final : public ws::Endpoint {
public:
    void on_message(ws::ServerConnection& conn, ws::Opcode op,
                    std::span<const std::byte> payload) override;
};

// GET /echo?message=hello answers hello (percent-decoded); without it, 426 pointing at the
// WebSocket form.
void echo_over_http(const ws::HttpRequest& req, ws::HttpReply& reply);

}  // namespace epws::chat
