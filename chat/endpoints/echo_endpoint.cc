// chat/endpoints/echo_endpoint.cc: /echo. Layer: chat/.
#include "chat/endpoints/echo_endpoint.h"

#include "ws/server_connection.h"

namespace epws::chat {

void EchoEndpoint::on_message(ws::ServerConnection& conn, ws::Opcode op,
                              std::span<const std::byte> payload) {
    conn.send_message(op, payload);  // straight from the receive buffer, no copy
}

void echo_over_http(const ws::HttpRequest& req, ws::HttpReply& reply) {
    auto raw = ws::query_param(req.query, "message");
    if (!raw) {
        reply.status = 426;
        reply.body = "/echo speaks WebSocket; for plain HTTP use /echo?message=TEXT\n";
        reply.extra_headers = "Upgrade: websocket\r\n";
    } else if (!ws::percent_decode(*raw, reply.body)) {
        reply.status = 400;
        reply.body = "message is not valid percent-encoding\n";
    }
}

}  // namespace epws::chat
