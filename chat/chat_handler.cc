// chat/chat_handler.cc: the /chat protocol of one loop: identity at the handshake, then join,
// leave, say, dm, who, history, rooms and ping (docs/chat-protocol.md). Layer: chat/.
#include <algorithm>
#include <cstring>
#include <ctime>

#include "chat/app.h"
#include "chat/jwt.h"
#include "chat/names.h"

namespace epws::chat {

Held::~Held() {
    for (RingEntry* e : entries) e->release();
}

void Held::hold(const RingEntry& e) {
    auto* m = const_cast<RingEntry*>(&e);
    // relaxed: the room's lock (held by our caller) orders this before any release.
    m->refs.fetch_add(1, std::memory_order_relaxed);
    entries.push_back(m);
}


namespace {

constexpr std::string_view kDefaultRoom = "lobby";

uint64_t wall_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

std::optional<std::string> decoded_param(std::string_view query, std::string_view name) {
    auto raw = ws::query_param(query, name);
    std::string out;
    if (!raw || !ws::percent_decode(*raw, out)) return std::nullopt;
    return out;
}

}  // namespace

ws::HttpError App::check_websocket(const ws::HttpRequest& req) {
    if (req.path == "/echo" || req.path == "/broadcast") return ws::HttpError::kNone;
    if (req.path != "/chat") return ws::HttpError::kNotFound;
    auto username = decoded_param(req.query, "username");
    std::string user;
    if (!shared_.config.jwt_secret.empty()) {
        auto token = decoded_param(req.query, "token");
        if (!token) return ws::HttpError::kUnauthorized;
        JwtResult r = verify_jwt(*token, shared_.config.jwt_secret, std::time(nullptr));
        if (!r.ok() || (username && *username != r.user)) return ws::HttpError::kUnauthorized;
        user = r.user;
    } else {
        // Open development mode: the name in the URL is trusted (said at start-up).
        if (!username || !is_valid_user_name(*username)) return ws::HttpError::kUnauthorized;
        user = *username;
    }
    uint32_t id = shared_.users.connect(user);
    if (id == 0) return ws::HttpError::kTooManyConnections;
    pending_user_ = std::move(user);
    pending_user_id_ = id;
    return ws::HttpError::kNone;
}

void App::open_chat(ws::ServerConnection& ws, Client& c) {
    c.user = std::move(pending_user_);
    c.user_id = pending_user_id_;
    c.tokens = shared_.config.rate_burst;
    c.refilled_ms = server_ ? server_->loop().now_ms() : 0;
    user_slots_[c.user_id].push_back(ws.app_tag() - 1);
    // Registered before anything is sent, so the welcome below is counted too.
    ws::ConnectionStats* stats = nullptr;
    uint64_t now = wall_ms();
    c.conn_id = shared_.registry.add(static_cast<uint32_t>(loop_), c.user, ws.deflate_params(),
                                     now, stats);
    ws.set_stats(stats);
    std::string_view rooms[] = {kDefaultRoom};
    out_.clear();
    encode_welcome(out_, c.user, rooms, now, c.conn_id);
    reply(ws);
    ClientMessage lobby;
    lobby.type = MessageType::kJoin;
    lobby.room = kDefaultRoom;
    join(ws, c, lobby);  // everyone is in the lobby, as in the tutorial
}

bool App::take_token(Client& c) {
    uint64_t now = server_ ? server_->loop().now_ms() : 0;
    double refill = static_cast<double>(now - c.refilled_ms) * shared_.config.rate_per_second / 1000.0;
    c.tokens = std::min(shared_.config.rate_burst, c.tokens + refill);
    c.refilled_ms = now;
    if (c.tokens < 1.0) return false;
    c.tokens -= 1.0;
    return true;
}

void App::on_chat(ws::ServerConnection& ws, Client& c, std::span<const std::byte> payload) {
    ClientMessage m;
    ParseResult r = parser_.parse({reinterpret_cast<const char*>(payload.data()), payload.size()}, m);
    // Every message takes a token, malformed ones too: each costs the server a reply.
    if (!take_token(c)) {
        // Over the rate: an error event and the message dropped; a client that keeps on
        // sending regardless is closed, rather than answered with errors for ever.
        uint32_t limit = shared_.config.rate_close_after;
        if (limit != 0 && c.refused++ >= limit)
            return ws.close_websocket(1008, "rate limit exceeded");  // RFC 6455 §7.4.1: policy
        return error(ws, ProtocolErrorCode::kRateLimited, m.id);
    }
    c.refused = 0;
    if (!r.ok()) return error(ws, r.error, m.id, r.field);
    switch (m.type) {
    case MessageType::kJoin: return join(ws, c, m);
    case MessageType::kLeave: {
        Room* room = shared_.rooms.find(m.room, false);
        if (room == nullptr || membership(c, room->id()) == nullptr)
            return error(ws, ProtocolErrorCode::kNotInRoom, m.id, "room");
        leave(c, room->id(), true);
        // The leaver is told too (it is no longer a member, so the ring copy skips it).
        out_.clear();
        encode_leave(out_, room->name(), c.user, wall_ms());
        return reply(ws);
    }
    case MessageType::kSay: return say(ws, c, m);
    case MessageType::kDm: return dm(ws, c, m);
    case MessageType::kWho: return who(ws, c, m);
    case MessageType::kHistory: return history(ws, c, m);
    case MessageType::kRooms: return rooms(ws, m);
    case MessageType::kPing:
        out_.clear();
        encode_pong(out_, m.id, wall_ms());
        return reply(ws);
    }
}

App::Membership* App::membership(Client& c, uint32_t room_id) {
    for (Membership& m : c.rooms)
        if (m.room == room_id) return &m;
    return nullptr;
}

void App::join(ws::ServerConnection& ws, Client& c, const ClientMessage& m) {
    Room* room = shared_.rooms.find(m.room, true);
    if (room == nullptr) return error(ws, ProtocolErrorCode::kTooManyRooms, m.id, "room");
    Membership* mem = membership(c, room->id());
    if (mem == nullptr) {
        if (c.rooms.size() >= shared_.config.rooms_per_connection)
            return error(ws, ProtocolErrorCode::kTooManyRooms, m.id, "room");
        // New messages only, unless since asks for a replay below.
        c.rooms.push_back({room->id(), room->last_seq(), 0, 0, 0});
        room_members_[room->id()].push_back(ws.app_tag() - 1);
        uint64_t change = 0;
        bool first = room->add_member(c.user, &change);
        // Its own join notice (number `change`) is the first it gets; older ones are in the
        // presence reply.
        c.rooms.back().presence = first ? change - 1 : change;
        if (first) notice(*room, c.user, true, change);
        mem = &c.rooms.back();
    }
    who(ws, c, m);  // the presence reply comes first (docs/chat-protocol.md, Resume)
    if (m.since) replay(ws, *room, *mem, *m.since, m.id);
}

// Sends what followed seq `since`: a gap for what the history no longer holds, then one
// history event; ring entries up to what it covered are then skipped for this client.
void App::replay(ws::ServerConnection& ws, Room& room, Membership& mem, uint64_t since,
                 const RequestId& id) {
    Held held;
    Room::Span span = room.read_history(since + 1, UINT64_MAX, [&](const RingEntry& e) { held.hold(e); });
    if (since + 1 < span.oldest) {
        out_.clear();
        encode_gap(out_, room.name(), since + 1, span.oldest - 1, GapReason::kHistory);
        reply(ws);
    }
    send_history(ws, room, held, id);
    mem.delivered = span.last;
}

void App::leave(Client& c, uint32_t room_id, bool announce) {
    auto it = std::find_if(c.rooms.begin(), c.rooms.end(), [&](const Membership& m) { return m.room == room_id; });
    if (it == c.rooms.end()) return;
    c.rooms.erase(it);
    auto members = room_members_.find(room_id);
    if (members != room_members_.end()) {
        // The slot is c's place in clients_, not its connection's tag: on_close clears the tag
        // before it leaves every room, and a stale slot would hand this room's messages to the
        // next connection given the slot.
        std::erase(members->second, static_cast<uint32_t>(&c - clients_.data()));
        if (members->second.empty()) room_members_.erase(members);
    }
    Room* room = shared_.rooms.by_id(room_id);
    uint64_t change = 0;
    if (room != nullptr && room->remove_member(c.user, &change) && announce)
        notice(*room, c.user, false, change);
}

void App::notice(Room& room, std::string_view user, bool joined, uint64_t change) {
    out_.clear();
    if (joined) {
        encode_join(out_, room.name(), user, wall_ms());
    } else {
        encode_leave(out_, room.name(), user, wall_ms());
    }
    // Presence notices carry no seq (the room's sequence is for messages only), but their own
    // change number, so a member joining meanwhile on another loop skips the older ones.
    publish_or_keep(Topic::kRoom, room.id(), 1, out_, change);
}

void App::say(ws::ServerConnection& ws, Client& c, const ClientMessage& m) {
    Room* room = shared_.rooms.find(m.room, false);
    if (room == nullptr || membership(c, room->id()) == nullptr)
        return error(ws, ProtocolErrorCode::kNotInRoom, m.id, "room");
    if (pending_.empty() && publish_say(room->name(), c.user, m.text)) return;
    if (!keep({Topic::kRoom, room->id(), 1, true, std::string(m.text), c.user, room->name()}))
        error(ws, ProtocolErrorCode::kInternal, m.id);
}

bool App::publish_say(const std::string& room_name, const std::string& from, std::string_view text) {
    Room* room = shared_.rooms.find(room_name, false);
    if (room == nullptr) return true;  // cannot happen: rooms are never deleted
    auto loops = static_cast<uint32_t>(shared_.hub.loops());
    uint64_t seq = room->publish(shared_.hub, [&](uint64_t s) -> RingEntry* {
        out_.clear();
        encode_message(out_, room_name, s, from, text, wall_ms());
        std::byte header[ws::kMaxFrameHeader];
        size_t h = ws::encode_frame_header(header, ws::Opcode::kText, out_.size());
        // One reference per loop, and one for the room's history.
        RingEntry* e = RingEntry::make(Topic::kRoom, static_cast<uint32_t>(h + out_.size()), loops + 1);
        if (e == nullptr) return nullptr;
        std::memcpy(e->data(), header, h);
        std::memcpy(e->data() + h, out_.data(), out_.size());
        e->payload_offset = static_cast<uint32_t>(h);
        e->target = room->id();
        e->room_seq = s;
        e->origin = static_cast<uint32_t>(loop_);
        return e;
    });
    return seq != 0;
}

void App::dm(ws::ServerConnection& ws, Client& c, const ClientMessage& m) {
    uint32_t to = shared_.users.online_id(m.to);
    if (to == 0) return error(ws, ProtocolErrorCode::kUnknownUser, m.id, "to");
    out_.clear();
    encode_dm(out_, c.user, m.to, m.text, wall_ms());
    // To every connection of the recipient, and of the sender (its other tabs see it too).
    bool ok = publish_or_keep(Topic::kUser, to, 1, out_);
    if (ok && to != c.user_id) ok = publish_or_keep(Topic::kUser, c.user_id, 1, out_);
    if (!ok) error(ws, ProtocolErrorCode::kInternal, m.id);
}

void App::who(ws::ServerConnection& ws, Client&, const ClientMessage& m) {
    // Any room, joined or not (docs/chat-protocol.md); one nobody ever joined is empty.
    Room* room = shared_.rooms.find(m.room, false);
    std::vector<std::string> names;
    if (room != nullptr) names = room->members();
    std::vector<std::string_view> views(names.begin(), names.end());
    out_.clear();
    encode_presence(out_, m.room, views, m.id);
    reply(ws);
}

void App::history(ws::ServerConnection& ws, Client&, const ClientMessage& m) {
    Room* room = shared_.rooms.find(m.room, false);
    if (room == nullptr) {
        out_.clear();  // a room nobody ever joined has no messages
        encode_history(out_, m.room, {}, 0, 0, m.id);
        return reply(ws);
    }
    uint64_t limit = m.limit ? m.limit : shared_.config.protocol.max_history_limit;
    uint64_t to = m.until ? *m.until : m.from + limit - 1;
    if (to - m.from + 1 > limit) to = m.from + limit - 1;
    Held held;
    Room::Span span = room->read_history(m.from, to, [&](const RingEntry& e) { held.hold(e); });
    if (m.from < span.oldest && m.from <= span.last) {
        out_.clear();  // part of the range is no longer kept
        encode_gap(out_, room->name(), m.from, std::min(to, span.oldest - 1), GapReason::kHistory);
        reply(ws);
    }
    send_history(ws, *room, held, m.id);
}

// One history event holding the messages in held (each stored as its message event JSON).
void App::send_history(ws::ServerConnection& ws, Room& room, const Held& held, const RequestId& id) {
    std::vector<std::string_view> messages;
    messages.reserve(held.entries.size());
    for (RingEntry* e : held.entries) {
        auto p = e->payload();
        messages.emplace_back(reinterpret_cast<const char*>(p.data()), p.size());
    }
    uint64_t first = held.entries.empty() ? 0 : held.entries.front()->room_seq;
    uint64_t last = held.entries.empty() ? 0 : held.entries.back()->room_seq;
    out_.clear();
    encode_history(out_, room.name(), messages, first, last, id);
    reply(ws);
}

void App::rooms(ws::ServerConnection& ws, const ClientMessage& m) {
    auto list = shared_.rooms.list();
    std::vector<RoomSummary> summaries;
    summaries.reserve(list.size());
    for (auto& r : list) summaries.push_back({r.name, r.members});
    out_.clear();
    encode_rooms(out_, summaries, m.id);
    reply(ws);
}

void App::on_drain(ws::ServerConnection& ws) {
    Client* c = client_of(ws);
    if (c == nullptr) return;  // only /chat connections have state
    for (Membership& m : c->rooms) {
        if (m.gap_from == 0) continue;
        // The client fell behind and was skipped: tell it exactly what it missed.
        Room* room = shared_.rooms.by_id(m.room);
        out_.clear();
        encode_gap(out_, room ? room->name() : std::string(), m.gap_from, m.gap_to,
                   GapReason::kSlowConsumer);
        m.gap_from = m.gap_to = 0;
        reply(ws);
    }
}

void App::reply(ws::ServerConnection& ws) {
    ws.send_message(ws::Opcode::kText, {reinterpret_cast<const std::byte*>(out_.data()), out_.size()});
}

void App::error(ws::ServerConnection& ws, ProtocolErrorCode code, const RequestId& id,
                std::string_view field) {
    out_.clear();
    encode_error(out_, code, id, field);
    reply(ws);
}

}  // namespace epws::chat
