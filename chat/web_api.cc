// chat/web_api.cc: /api/whoami and the /api/connections pieces. Layer: chat/.
#include "chat/web_api.h"

#include <cstdio>
#include <ctime>
#include <random>
#include <optional>

#include "chat/jwt.h"
#include "chat/names.h"
#include "ws/http_request.h"

namespace epws::chat {
namespace {

std::optional<std::string> param(std::string_view query, std::string_view name) {
    auto raw = ws::query_param(query, name);
    std::string out;
    if (!raw || !ws::percent_decode(*raw, out)) return std::nullopt;
    return out;
}

void refuse(ws::HttpReply& reply, std::string_view code, std::string_view reason) {
    reply.status = 401;
    reply.body = "{\"error\":";
    append_json_string(reply.body, code);
    reply.body += ",\"reason\":";
    append_json_string(reply.body, reason);
    reply.body += "}\n";
}

void counter(std::string& out, const char* name, uint64_t v, bool first = false) {
    if (!first) out += ',';
    out += '"';
    out += name;
    out += "\":" + std::to_string(v);
}

// This process's id, the same for every loop: a client that sees it change knows the server
// restarted (room sequence numbers start again at 1).
const std::string& instance_id() {
    static const std::string id = [] {
        std::random_device rd;
        char buf[20];
        std::snprintf(buf, sizeof(buf), "%08x%08x", rd(), rd());
        return std::string(buf);
    }();  // a function-local static: initialised once, thread-safely (C++11)
    return id;
}

std::string_view mode_name(ws::DeflateMode m) {
    switch (m) {
    case ws::DeflateMode::kOff: return "off";
    case ws::DeflateMode::kShared: return "shared";
    case ws::DeflateMode::kDedicated: return "dedicated";
    }
    return "?";
}

}  // namespace

void whoami(const ChatConfig& config, std::string_view query, ws::HttpReply& reply) {
    reply.content_type = "application/json";
    reply.extra_headers += "Cache-Control: no-store\r\n";
    auto username = param(query, "username");
    if (!config.jwt_secret.empty()) {
        auto token = param(query, "token");
        if (!token || token->empty()) return refuse(reply, "unauthorized", "a token is required");
        JwtResult r = verify_jwt(*token, config.jwt_secret, std::time(nullptr));
        if (!r.ok()) return refuse(reply, "unauthorized", jwt_error_string(r.error));
        if (username && !username->empty() && *username != r.user)
            return refuse(reply, "username_mismatch", "username differs from the token's sub");
        reply.body = "{\"user\":";
        append_json_string(reply.body, r.user);
        reply.body += ",\"mode\":\"jwt\",\"exp\":" + std::to_string(r.exp);
        reply.body += ",\"instance\":\"" + instance_id() + "\"}\n";
        return;
    }
    if (!username || !is_valid_user_name(*username))
        return refuse(reply, "bad_user", "username is missing or breaks the name rules");
    reply.body = "{\"user\":";
    append_json_string(reply.body, *username);
    reply.body += ",\"mode\":\"open\",\"instance\":\"" + instance_id() + "\"}\n";
}

void append_server_view(std::string& out, size_t loop, const ws::ServerConfig& w,
                        const ChatConfig& chat, const std::vector<const ws::ServerStats*>& loops) {
    out += "{\"loop\":" + std::to_string(loop);
    out += ",\"config\":{\"deflate\":\"";
    out += mode_name(w.deflate.mode);
    out += '"';
    counter(out, "deflate_level", static_cast<uint64_t>(w.deflate.level));
    counter(out, "deflate_window_bits", static_cast<uint64_t>(w.deflate.window_bits));
    counter(out, "deflate_threshold", w.deflate.threshold);
    counter(out, "ping_interval_ms", chat.ping_interval_ms);
    counter(out, "idle_timeout_ms", w.idle_timeout_ms);
    counter(out, "max_message_bytes", w.reader.max_message_bytes);
    out += "},\"loops\":[";
    for (size_t i = 0; i < loops.size(); ++i) {
        if (loops[i] == nullptr) continue;
        const ws::ServerStats& s = *loops[i];
        if (out.back() != '[') out += ',';
        out += '{';
        counter(out, "loop", i, true);
        counter(out, "websockets", s.websockets);
        counter(out, "messages_in", s.messages_in);
        counter(out, "messages_out", s.messages_out);
        counter(out, "deflate_negotiated", s.deflate.negotiated);
        counter(out, "deflate_in_bytes", s.deflate.deflate_in_bytes);
        counter(out, "deflate_out_bytes", s.deflate.deflate_out_bytes);
        counter(out, "inflate_in_bytes", s.deflate.inflate_in_bytes);
        counter(out, "inflate_out_bytes", s.deflate.inflate_out_bytes);
        // Compressed size over original size of what this loop sent compressed (0: none yet).
        uint64_t in = s.deflate.deflate_in_bytes;
        uint64_t outb = s.deflate.deflate_out_bytes;
        char ratio[32];
        std::snprintf(ratio, sizeof(ratio), "%.3f",
                      in ? static_cast<double>(outb) / static_cast<double>(in) : 0.0);
        out += ",\"deflate_ratio\":";
        out += ratio;
        out += '}';
    }
    out += ']';
}

void append_connection(std::string& out, std::string_view user, size_t rooms,
                       const ws::DeflateParams& d, size_t queued_bytes) {
    out += "{\"user\":";
    append_json_string(out, user);
    counter(out, "rooms", rooms);
    counter(out, "queued_bytes", queued_bytes);
    out += ",\"permessage_deflate\":";
    if (!d.enabled) {
        out += "null}";
        return;
    }
    out += "{\"server_no_context_takeover\":";
    out += d.server_no_context_takeover ? "true" : "false";
    out += ",\"client_no_context_takeover\":";
    out += d.client_no_context_takeover ? "true" : "false";
    counter(out, "server_max_window_bits", d.server_window_bits);
    counter(out, "client_max_window_bits", d.client_window_bits);
    out += "}}";
}

}  // namespace epws::chat
