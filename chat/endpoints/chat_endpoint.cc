// chat/endpoints/chat_endpoint.cc: a /chat connection's life: identity at the handshake, the
// welcome, the rate limit, slow-consumer gaps, heartbeats and the goodbye. Layer: chat/.
#include "chat/endpoints/chat_endpoint.h"

#include <algorithm>
#include <ctime>
#include <optional>

#include "chat/identity.h"
#include "net/clock.h"
#include "ws/server_connection.h"

namespace epws::chat {
namespace {


}  // namespace

ChatEndpoint::ChatEndpoint(ChatShared shared, net::Loop& loop, size_t loop_index, Outbox& outbox)
    : shared_(shared), loop_(loop), loop_index_(loop_index), outbox_(outbox),
      parser_(shared.config.protocol) {}

ChatEndpoint::~ChatEndpoint() = default;

ws::HttpError ChatEndpoint::accept(ws::ServerConnection& conn, const ws::HttpRequest& req) {
    // The same check as GET /api/whoami (chat/identity.h), so the page's answer holds here.
    Identity identity = check_identity(shared_.config.jwt_secret, req.query, std::time(nullptr));
    if (!identity.ok()) return ws::HttpError::kUnauthorized;
    std::string user = std::move(identity.user);
    uint32_t id = shared_.users.connect(user);
    if (id == 0) return ws::HttpError::kTooManyConnections;
    uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = static_cast<uint32_t>(clients_.size());
        clients_.emplace_back();
    }
    Client& c = clients_[slot];
    c = Client{};
    c.conn = &conn;
    c.user = std::move(user);
    c.user_id = id;
    conn.set_tag(slot + 1);
    return ws::HttpError::kNone;
}

void ChatEndpoint::on_open(ws::ServerConnection& conn) {
    Client& c = client_of(conn);
    c.tokens = shared_.config.rate_burst;
    c.refilled_ms = loop_.now_ms();
    user_slots_[c.user_id].push_back(slot_of(c));
    // Registered before anything is sent, so the welcome below is counted too.
    ws::ConnectionStats* stats = nullptr;
    uint64_t now = net::wall_ms();
    c.conn_id = shared_.registry.add(static_cast<uint32_t>(loop_index_), c.user,
                                     conn.deflate_params(), now, stats);
    conn.set_stats(stats);
    std::string_view rooms[] = {kDefaultRoom};
    out_.clear();
    encode_welcome(out_, c.user, rooms, now, c.conn_id);
    reply(conn);
    ClientMessage lobby;
    lobby.type = MessageType::kJoin;
    lobby.room = kDefaultRoom;
    join(conn, c, lobby);
}

bool ChatEndpoint::take_token(Client& c) {
    uint64_t now = loop_.now_ms();
    double refill = static_cast<double>(now - c.refilled_ms) * shared_.config.rate_per_second / 1000.0;
    c.tokens = std::min(shared_.config.rate_burst, c.tokens + refill);
    c.refilled_ms = now;
    if (c.tokens < 1.0) return false;
    c.tokens -= 1.0;
    return true;
}

void ChatEndpoint::on_message(ws::ServerConnection& conn, ws::Opcode op,
                              std::span<const std::byte> payload) {
    // RFC 6455 §7.4.1: 1003, data this endpoint cannot accept.
    if (op != ws::Opcode::kText)
        return conn.close_websocket(ws::CloseCode::kUnsupportedData, "the chat protocol is JSON text");
    Client& c = client_of(conn);
    ClientMessage m;
    ParseResult r = parser_.parse({reinterpret_cast<const char*>(payload.data()), payload.size()}, m);
    // Every message takes a token, malformed ones too: each costs the server a reply.
    if (!take_token(c)) {
        // Over the rate: an error event and the message dropped; a client that keeps on
        // sending regardless is closed, rather than answered with errors for ever.
        uint32_t limit = shared_.config.rate_close_after;
        ++stats_.rate_limited;
        if (limit != 0 && c.refused++ >= limit) {
            ++stats_.rate_closes;
            return conn.close_websocket(ws::CloseCode::kPolicyViolation, "rate limit exceeded");
        }
        return error(conn, ProtocolErrorCode::kRateLimited, m.id);
    }
    c.refused = 0;
    if (!r.ok()) return error(conn, r.error, m.id, r.field);
    dispatch(conn, c, m);
}

void ChatEndpoint::on_drain(ws::ServerConnection& conn) {
    Client& c = client_of(conn);
    for (Membership& m : c.rooms) {
        if (m.gap_from == 0) continue;
        // The client fell behind and was skipped: tell it exactly what it missed.
        out_.clear();
        encode_gap(out_, m.room_ptr->name(), m.gap_from, m.gap_to, GapReason::kSlowConsumer);
        m.gap_from = m.gap_to = 0;
        ++stats_.slow_gaps;
        reply(conn);
    }
}

void ChatEndpoint::on_close(ws::ServerConnection& conn, uint16_t) {
    Client& c = client_of(conn);
    uint32_t slot = slot_of(c);
    conn.set_tag(0);
    // Detach the counters before the registry frees them (ConnectionRegistry explains why no
    // other loop can be reading them then). A connection refused after accept never opened.
    conn.set_stats(nullptr);
    if (c.conn_id != 0) shared_.registry.remove(c.conn_id);
    while (!c.rooms.empty()) leave(c, c.rooms.back().room);
    auto it = user_slots_.find(c.user_id);
    if (it != user_slots_.end()) {
        std::erase(it->second, slot);
        if (it->second.empty() && &it->second != delivering_) user_slots_.erase(it);
    }
    shared_.users.disconnect(c.user);
    c = Client{};
    free_slots_.push_back(slot);
}

void ChatEndpoint::tick(uint64_t now_ms) {
    publish_presence();
    if (now_ms >= next_sweep_ms_) sweep_rooms(now_ms);
    if (shared_.config.ping_interval_ms == 0 || now_ms < next_ping_ms_) return;
    if (next_ping_ms_ != 0) {
        // RFC 6455 §5.5.2: a ping the browser answers by itself, keeping proxies and the idle
        // timeout from closing a quiet but live connection; its pong gives the round trip that
        // GET /api/connections shows.
        for (Client& c : clients_)
            if (c.conn != nullptr && c.conn->is_open()) c.conn->send_ping();
    }
    next_ping_ms_ = now_ms + shared_.config.ping_interval_ms;
}

ChatEndpoint::Client* ChatEndpoint::live_client(uint32_t slot, uint64_t conn_id) {
    if (slot >= clients_.size()) return nullptr;
    Client& c = clients_[slot];
    return c.conn != nullptr && c.conn_id == conn_id ? &c : nullptr;
}

ChatEndpoint::Membership* ChatEndpoint::membership(Client& c, uint32_t room_id) {
    for (Membership& m : c.rooms)
        if (m.room == room_id) return &m;
    return nullptr;
}

ChatEndpoint::Membership* ChatEndpoint::membership(Client& c, std::string_view room_name) {
    // A member's room cannot expire, so its name is stable and read without a lock.
    for (Membership& m : c.rooms)
        if (m.room_ptr->name() == room_name) return &m;
    return nullptr;
}

void ChatEndpoint::reply(ws::ServerConnection& conn) {
    conn.send_message(ws::Opcode::kText, {reinterpret_cast<const std::byte*>(out_.data()), out_.size()});
}

void ChatEndpoint::error(ws::ServerConnection& conn, ProtocolErrorCode code, const RequestId& id,
                         std::string_view field) {
    out_.clear();
    encode_error(out_, code, id, field);
    reply(conn);
}

}  // namespace epws::chat
