// chat/echo_app.cc: the echo endpoint and the small HTTP routes. Layer: chat/.
#include "chat/echo_app.h"

#include <string>

#include "ws/server_connection.h"

namespace epws::chat {

void EchoApp::on_open(ws::ServerConnection& ws, const ws::HttpRequest& req) {
    if (req.path != "/broadcast") return;
    subscribers_.push_back(&ws);
    ws.set_app_tag(static_cast<uint32_t>(subscribers_.size()));
}

void EchoApp::on_message(ws::ServerConnection& ws, ws::Opcode op,
                         std::span<const std::byte> payload) {
    if (ws.app_tag() == 0) {
        ws.send_message(op, payload);
        return;
    }
    // Framed once, compressed once for every recipient in shared deflate mode (ws::Broadcast).
    ws::Broadcast message(op, payload);
    // Backwards: a recipient whose socket fails is closed at once and swap-removed by
    // on_close, which moves an already visited subscriber into its slot; none is skipped.
    for (size_t i = subscribers_.size(); i-- > 0;) {
        if (i < subscribers_.size()) message.send_to(*subscribers_[i]);
    }
}

void EchoApp::on_close(ws::ServerConnection& ws, uint16_t) {
    uint32_t tag = ws.app_tag();
    if (tag == 0) return;
    // Swap-remove: the last subscriber takes the leaving one's slot and index.
    ws::ServerConnection* last = subscribers_.back();
    subscribers_[tag - 1] = last;
    last->set_app_tag(tag);
    subscribers_.pop_back();
    ws.set_app_tag(0);
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
    const ws::DeflateStats& d = s.deflate;
    field("deflate_negotiated", d.negotiated);
    field("deflate_messages_inflated", d.messages_inflated);
    field("deflate_inflate_in_bytes", d.inflate_in_bytes);
    field("deflate_inflate_out_bytes", d.inflate_out_bytes);
    field("deflate_messages_deflated", d.messages_deflated);
    field("deflate_deflate_in_bytes", d.deflate_in_bytes);
    field("deflate_deflate_out_bytes", d.deflate_out_bytes);
    field("deflate_frames_reused", d.frames_reused);
    field("deflate_dedicated_streams", d.dedicated_streams);
    field("deflate_zlib_bytes", d.zlib.bytes);
    return out + "}\n";
}

}  // namespace epws::chat
