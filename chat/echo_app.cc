// chat/echo_app.cc: the echo endpoint and the small HTTP routes. Layer: chat/.
#include "chat/echo_app.h"

#include <string>

#include "ws/server_connection.h"

namespace epws::chat {

void EchoApp::on_message(ws::ServerConnection& ws, ws::Opcode op,
                         std::span<const std::byte> payload) {
    ws.send_message(op, payload);
}

void EchoApp::on_http(const ws::HttpRequest& req, ws::HttpReply& reply) {
    if (req.method != "GET" && req.method != "HEAD") {
        reply.status = 405;
        reply.body = "only GET and HEAD are served here\n";
        reply.extra_headers = "Allow: GET, HEAD\r\n";
        return;
    }
    if (req.path == "/healthz") {
        reply.body = "ok\n";
    } else if (req.path == "/stats" && stats_ != nullptr) {
        reply.content_type = "application/json";
        reply.body = stats_json(*stats_);
    } else if (req.path == "/echo") {
        // The tutorial's plain-HTTP form: GET /echo?message=hello answers hello.
        auto raw = ws::query_param(req.query, "message");
        if (!raw) {
            reply.status = 426;
            reply.body = "/echo speaks WebSocket; for plain HTTP use /echo?message=TEXT\n";
            reply.extra_headers = "Upgrade: websocket\r\n";
        } else if (!ws::percent_decode(*raw, reply.body)) {
            reply.status = 400;
            reply.body = "message is not valid percent-encoding\n";
        }
    } else {
        reply.status = 404;
        reply.body = "not found\n";
    }
}

std::string stats_json(const ws::ServerStats& s) {
    std::string out = "{";
    auto field = [&](const char* name, uint64_t v) {
        if (out.size() > 1) out += ",";
        out += "\"";
        out += name;
        out += "\":" + std::to_string(v);
    };
    field("connections", s.websockets);
    field("accepted", s.accepted);
    field("handshakes", s.handshakes);
    field("rejected_handshakes", s.rejected_handshakes);
    field("http_requests", s.http_requests);
    field("rejected_over_capacity", s.rejected_over_capacity);
    field("handshake_timeouts", s.handshake_timeouts);
    field("idle_timeouts", s.idle_timeouts);
    field("close_timeouts", s.close_timeouts);
    field("protocol_errors", s.protocol_errors);
    field("closed_output_overflow", s.closed_output_overflow);
    field("messages_in", s.messages_in);
    field("messages_out", s.messages_out);
    return out + "}\n";
}

}  // namespace epws::chat
