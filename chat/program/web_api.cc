// chat/program/web_api.cc: GET /api/whoami and GET /api/connections. Layer: chat/program/.
#include "chat/program/web_api.h"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>

#include "chat/identity.h"
#include "chat/jwt.h"
#include "chat/names.h"
#include "ws/http/request.h"

namespace epws::chat {
namespace {

void json_error(ws::HttpReply& reply, int status, std::string_view code, std::string_view reason) {
    reply.status = status;
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
    // The /chat handshake's own check (chat/identity.h): a 200 here is a 101 there.
    Identity id = check_identity(config.jwt_secret, query, std::time(nullptr));
    if (!id.ok())
        return json_error(reply, 401, identity_error_code(id.error), identity_error_reason(id));
    reply.body = "{\"user\":";
    append_json_string(reply.body, id.user);
    if (!config.jwt_secret.empty()) {
        reply.body += ",\"mode\":\"jwt\",\"exp\":" + std::to_string(id.exp);
    } else {
        reply.body += ",\"mode\":\"open\"";
    }
    reply.body += ",\"instance\":\"" + instance_id() + "\"}\n";
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

namespace {

// ,"name":{"in":IN,"out":OUT}
void in_out(std::string& out, const char* name, uint64_t in, uint64_t outv) {
    out += ",\"";
    out += name;
    out += "\":{\"in\":" + std::to_string(in) + ",\"out\":" + std::to_string(outv) + '}';
}

// compressed / original to three places, or null when nothing was sent that way yet.
void ratio(std::string& out, uint64_t compressed, uint64_t original) {
    if (original == 0) {
        out += "null";
        return;
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3f",
                  static_cast<double>(compressed) / static_cast<double>(original));
    out += buf;
}

}  // namespace

void append_connection(std::string& out, const ConnectionView& v) {
    out += '{';
    counter(out, "id", v.id, true);
    counter(out, "loop", v.loop);
    out += ",\"user\":";
    append_json_string(out, v.user);
    counter(out, "opened_ms", v.opened_ms);
    out += ",\"permessage_deflate\":";
    const ws::DeflateParams& d = v.deflate;
    if (d.enabled) {
        out += "{\"server_no_context_takeover\":";
        out += d.server_no_context_takeover ? "true" : "false";
        out += ",\"client_no_context_takeover\":";
        out += d.client_no_context_takeover ? "true" : "false";
        counter(out, "server_max_window_bits", d.server_window_bits);
        counter(out, "client_max_window_bits", d.client_window_bits);
        out += '}';
    } else {
        out += "null";
    }
    in_out(out, "messages", v.messages_in, v.messages_out);
    in_out(out, "wire_bytes", v.wire_bytes_in, v.wire_bytes_out);
    in_out(out, "payload_bytes", v.payload_bytes_in, v.payload_bytes_out);
    in_out(out, "compressed_bytes", v.compressed_bytes_in, v.compressed_bytes_out);
    out += ",\"compression_ratio\":{\"in\":";
    ratio(out, v.compressed_bytes_in, v.payload_bytes_in);
    out += ",\"out\":";
    ratio(out, v.compressed_bytes_out, v.payload_bytes_out);
    out += "},\"ping_rtt_us\":";
    out += v.ping_rtt_us ? std::to_string(v.ping_rtt_us) : "null";
    out += '}';
}

bool parse_connection_id(std::string_view text, uint64_t& id) {
    if (text.empty() || text.size() > 20) return false;  // 2^64 - 1 has 20 digits
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        auto digit = static_cast<uint64_t>(c - '0');
        if (v > (UINT64_MAX - digit) / 10) return false;  // would overflow
        v = v * 10 + digit;
    }
    id = v;
    return true;
}

namespace {

// Equal contents, in time independent of where they differ (only the lengths leak).
bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i)
        diff = static_cast<unsigned char>(diff | (a[i] ^ b[i]));
    return diff == 0;
}

// The credential of a request: Authorization: Bearer T (RFC 6750 §2.1; the scheme is
// case-insensitive, RFC 9110 §11.1), else ?token=T. Empty when there is none.
std::string credential(const ws::HttpRequest& req) {
    if (const std::string_view* auth = req.find("authorization")) {
        constexpr std::string_view kScheme = "bearer ";
        const std::string_view scheme = auth->substr(0, kScheme.size());
        if (auth->size() > kScheme.size() && ws::ascii_iequals(scheme, kScheme))
            return std::string(auth->substr(kScheme.size()));
        return {};
    }
    return decoded_param(req.query, "token").value_or(std::string());
}

}  // namespace

ApiViewer api_viewer(const ChatConfig& chat, const ws::HttpRequest& req, int64_t now) {
    ApiViewer v;
    if (chat.jwt_secret.empty() && chat.admin_token.empty()) {
        v.allowed = v.all = true;  // open development mode: anyone may be anyone anyway
        return v;
    }
    std::string token = credential(req);
    if (token.empty()) {
        v.refusal = "a token is required (Authorization: Bearer TOKEN or ?token=)";
        return v;
    }
    if (!chat.admin_token.empty() && constant_time_equal(token, chat.admin_token)) {
        v.allowed = v.all = true;
        return v;
    }
    if (chat.jwt_secret.empty()) {
        v.refusal = "only the admin token may read this server's connections";
        return v;
    }
    JwtResult r = verify_jwt(token, chat.jwt_secret, now);
    if (!r.ok()) {
        v.refusal = jwt_error_string(r.error);
        return v;
    }
    v.allowed = true;
    v.user = std::move(r.user);
    return v;
}

void api_connections(std::string_view query, const ApiViewer& viewer, size_t loop,
                     const ws::ServerConfig& ws_config, const ChatConfig& chat,
                     const std::vector<const ws::ServerStats*>& loops,
                     const ConnectionRegistry& registry, ws::HttpReply& reply) {
    reply.content_type = "application/json";
    reply.extra_headers += "Cache-Control: no-store\r\n";
    if (!viewer.allowed) {
        reply.extra_headers += "WWW-Authenticate: Bearer realm=\"epws\"\r\n";
        return json_error(reply, 401, "unauthorized", viewer.refusal);
    }
    auto raw_id = ws::query_param(query, "id");
    if (raw_id) {
        uint64_t id = 0;
        ConnectionView v;
        if (!parse_connection_id(*raw_id, id))
            return json_error(reply, 400, "bad_id", "id must be a connection id: decimal digits");
        // Copied under the registry's lock, wherever the connection lives; formatted after.
        if (!registry.snapshot(id, v) || (!viewer.all && v.user != viewer.user))
            return json_error(reply, 404, "not_found", "no open /chat connection has this id");
        append_server_view(reply.body, loop, ws_config, chat, loops);
        reply.body += ",\"connection\":";
        append_connection(reply.body, v);
        reply.body += "}\n";
        return;
    }
    std::vector<ConnectionView> views;
    size_t total = registry.list(kMaxListedConnections, views,
                                 viewer.all ? std::string_view{} : std::string_view(viewer.user));
    append_server_view(reply.body, loop, ws_config, chat, loops);
    counter(reply.body, "connections_total", total);
    reply.body += ",\"connections\":[";
    for (size_t i = 0; i < views.size(); ++i) {
        if (i) reply.body += ',';
        append_connection(reply.body, views[i]);
    }
    reply.body += "]}\n";
}

}  // namespace epws::chat
