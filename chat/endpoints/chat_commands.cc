// chat/endpoints/chat_commands.cc: what a /chat client can ask: join, leave, say, dm, who,
// history, rooms and ping (docs/chat-protocol.md). Layer: chat/.
#include <algorithm>
#include <memory>

#include "chat/endpoints/chat_endpoint.h"
#include "net/clock.h"
#include "ws/server_connection.h"

namespace epws::chat {
namespace {

std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// A room message the bus could not take yet, kept with its own copies of the text, and numbered
// only when it is finally published, so the room's order is the order of publication.
class SayPublication final : public Publication {
public:
    SayPublication(const Room& room, std::string_view from, std::string_view text, uint32_t origin)
        : room_id_(room.id()), room_(room.name()), from_(from), text_(text), origin_(origin) {}

    bool try_publish(Bus& bus) override {
        return bus.publish_to_room(room_id_, {room_, from_, text_, origin_});
    }

private:
    uint32_t room_id_;
    std::string room_, from_, text_;
    uint32_t origin_;
};

}  // namespace

void ChatEndpoint::dispatch(ws::ServerConnection& conn, Client& c, const ClientMessage& m) {
    switch (m.type) {
    case MessageType::kJoin: return join(conn, c, m);
    case MessageType::kLeave: return leave_command(conn, c, m);
    case MessageType::kSay: return say(conn, c, m);
    case MessageType::kDm: return dm(conn, c, m);
    case MessageType::kWho: return who(conn, m);
    case MessageType::kHistory: return history(conn, m);
    case MessageType::kRooms: return rooms(conn, m);
    case MessageType::kPing:
        out_.clear();
        encode_pong(out_, m.id, net::wall_ms());
        return reply(conn);
    }
}

void ChatEndpoint::join(ws::ServerConnection& conn, Client& c, const ClientMessage& m) {
    Room* room = shared_.rooms.find(m.room, true);
    if (room == nullptr) return error(conn, ProtocolErrorCode::kTooManyRooms, m.id, "room");
    Membership* mem = membership(c, room->id());
    if (mem == nullptr) {
        if (c.rooms.size() >= shared_.config.rooms_per_connection)
            return error(conn, ProtocolErrorCode::kTooManyRooms, m.id, "room");
        // New messages only, unless since asks for a replay: where that starts, the bus says
        // (catch_up below); until then the room's entries are held back.
        c.rooms.push_back({room->id(), 0, 0, 0, 0, true});
        room_members_[room->id()].push_back(slot_of(c));
        uint64_t change = 0;
        bool first = room->add_member(c.user, &change);
        // Its own join notice (number `change`) is the first it gets; older ones are in the
        // presence reply.
        c.rooms.back().presence = first ? change - 1 : change;
        if (first) notice(*room, c.user, true, change);
        mem = &c.rooms.back();
    }
    if (!mem->pending && !m.since) return who(conn, m);  // a member already: presence only
    // The presence reply comes first (docs/chat-protocol.md, Resume), sent with the bus's
    // answer: a bus across nodes answers a room's first join later, and whatever anyone says
    // after seeing this presence must come after the point that answer starts from.
    catch_up(c, *room, m.since, m.id);
}

void ChatEndpoint::send_presence(ws::ServerConnection& conn, Room& room, const RequestId& id) {
    std::vector<std::string> names = room.members();
    std::vector<std::string_view> views(names.begin(), names.end());
    out_.clear();
    encode_presence(out_, room.name(), views, id);
    reply(conn);
}

void ChatEndpoint::catch_up(Client& c, const Room& room, std::optional<uint64_t> since,
                            const RequestId& id) {
    uint32_t slot = slot_of(c);
    uint64_t conn_id = c.conn_id;
    uint32_t room_id = room.id();
    // Without since, only where the room stands (from > to); with it, everything after.
    uint64_t from = since ? *since + 1 : UINT64_MAX;
    uint64_t to = since ? UINT64_MAX : 0;
    shared_.bus.read_room(loop_index_, room_id, from, to,
                          [this, slot, conn_id, room_id, since, rid = OwnedRequestId(id),
                           name = room.name()](const RoomRead& r) {
        Client* live = live_client(slot, conn_id);
        Membership* mem = live ? membership(*live, room_id) : nullptr;
        if (mem == nullptr) return;  // gone, or left the room meanwhile
        if (Room* named = shared_.rooms.by_id(room_id)) send_presence(*live->conn, *named, rid.view());
        if (since) {
            if (*since + 1 < r.span.oldest) {
                out_.clear();
                encode_gap(out_, name, *since + 1, r.span.oldest - 1, GapReason::kHistory);
                reply(*live->conn);
            }
            send_history(*live->conn, name, r.entries, rid.view());
        }
        // Entries up to what the answer covered are skipped for this member from now on.
        mem->delivered = std::max(mem->delivered, r.span.last);
        mem->pending = false;
    });
}

void ChatEndpoint::leave_command(ws::ServerConnection& conn, Client& c, const ClientMessage& m) {
    Room* room = shared_.rooms.find(m.room, false);
    if (room == nullptr || membership(c, room->id()) == nullptr)
        return error(conn, ProtocolErrorCode::kNotInRoom, m.id, "room");
    leave(c, room->id(), true);
    // The leaver is told too (it is no longer a member, so the bus copy skips it).
    out_.clear();
    encode_leave(out_, room->name(), c.user, net::wall_ms());
    reply(conn);
}

void ChatEndpoint::leave(Client& c, uint32_t room_id, bool announce) {
    auto it = std::find_if(c.rooms.begin(), c.rooms.end(), [&](const Membership& m) { return m.room == room_id; });
    if (it == c.rooms.end()) return;
    c.rooms.erase(it);
    auto members = room_members_.find(room_id);
    if (members != room_members_.end()) {
        // The slot is c's place in clients_, not its connection's tag: on_close clears the tag
        // before it leaves every room, and a stale slot would hand this room's messages to the
        // next connection given the slot.
        std::erase(members->second, slot_of(c));
        if (members->second.empty() && &members->second != delivering_) room_members_.erase(members);
    }
    Room* room = shared_.rooms.by_id(room_id);
    uint64_t change = 0;
    if (room != nullptr && room->remove_member(c.user, &change) && announce)
        notice(*room, c.user, false, change);
}

void ChatEndpoint::notice(Room& room, std::string_view user, bool joined, uint64_t change) {
    out_.clear();
    if (joined) {
        encode_join(out_, room.name(), user, net::wall_ms());
    } else {
        encode_leave(out_, room.name(), user, net::wall_ms());
    }
    // Presence notices carry no seq (the room's sequence is for messages only), but their own
    // change number, so a member joining meanwhile on another loop skips the older ones.
    RingEntry* e = RingEntry::make(Topic::kRoom, room.id(), ws::Opcode::kText, as_bytes(out_));
    if (e == nullptr) return;
    e->presence = change;
    e->origin = static_cast<uint32_t>(loop_index_);
    outbox_.publish(e);  // a full outbox loses a notice; the next presence reply is exact
}

void ChatEndpoint::say(ws::ServerConnection& conn, Client& c, const ClientMessage& m) {
    Room* room = shared_.rooms.find(m.room, false);
    if (room == nullptr || membership(c, room->id()) == nullptr)
        return error(conn, ProtocolErrorCode::kNotInRoom, m.id, "room");
    // Refused rather than kept to be numbered later, out of order with the other nodes.
    if (!shared_.bus.available()) return error(conn, ProtocolErrorCode::kUnavailable, m.id);
    auto origin = static_cast<uint32_t>(loop_index_);
    // The common case publishes at once, with no copy; only a refused one is kept, in order.
    if (outbox_.empty() && shared_.bus.publish_to_room(room->id(), {room->name(), c.user, m.text, origin}))
        return;
    if (!outbox_.publish(std::make_unique<SayPublication>(*room, c.user, m.text, origin)))
        error(conn, ProtocolErrorCode::kInternal, m.id);
}

void ChatEndpoint::dm(ws::ServerConnection& conn, Client& c, const ClientMessage& m) {
    uint32_t to = shared_.users.online_id(m.to);
    out_.clear();
    encode_dm(out_, c.user, m.to, m.text, net::wall_ms());
    // The recipient's connections on other nodes, if the bus spans several.
    bool elsewhere = m.to != c.user && shared_.bus.publish_to_user(m.to, out_);
    if (to == 0 && !elsewhere) return error(conn, ProtocolErrorCode::kUnknownUser, m.id, "to");
    // To every connection of the recipient, and of the sender (its other tabs see it too).
    auto publish_to = [&](uint32_t user) {
        RingEntry* e = RingEntry::make(Topic::kUser, user, ws::Opcode::kText, as_bytes(out_));
        return e != nullptr && outbox_.publish(e);
    };
    bool ok = to == 0 || publish_to(to);
    if (ok && to != c.user_id) ok = publish_to(c.user_id);
    if (!ok) error(conn, ProtocolErrorCode::kInternal, m.id);
}

void ChatEndpoint::who(ws::ServerConnection& conn, const ClientMessage& m) {
    // Any room, joined or not (docs/chat-protocol.md); one nobody ever joined is empty.
    Room* room = shared_.rooms.find(m.room, false);
    std::vector<std::string> names;
    if (room != nullptr) names = room->members();
    std::vector<std::string_view> views(names.begin(), names.end());
    out_.clear();
    encode_presence(out_, m.room, views, m.id);
    reply(conn);
}

void ChatEndpoint::history(ws::ServerConnection& conn, const ClientMessage& m) {
    Room* room = shared_.rooms.find(m.room, false);
    if (room == nullptr) {
        out_.clear();  // a room nobody ever joined has no messages
        encode_history(out_, m.room, {}, 0, 0, m.id);
        return reply(conn);
    }
    uint64_t limit = m.limit ? m.limit : shared_.config.protocol.max_history_limit;
    uint64_t to = m.until ? *m.until : m.from + limit - 1;
    if (to - m.from + 1 > limit) to = m.from + limit - 1;
    Client& c = client_of(conn);
    shared_.bus.read_room(loop_index_, room->id(), m.from, to,
                          [this, slot = slot_of(c), conn_id = c.conn_id,
                           from = std::max<uint64_t>(m.from, 1), to,
                           rid = OwnedRequestId(m.id), name = room->name()](const RoomRead& r) {
        Client* live = live_client(slot, conn_id);
        if (live == nullptr) return;
        // Seqs start at 1 (from 0 reads as 1): a gap names only numbers that existed and are gone.
        if (from <= to && from < r.span.oldest && from <= r.span.last) {
            out_.clear();  // part of the range is no longer kept
            encode_gap(out_, name, from, std::min(to, r.span.oldest - 1), GapReason::kHistory);
            reply(*live->conn);
        }
        send_history(*live->conn, name, r.entries, rid.view());
    });
}

// One history event holding the messages given (each stored as its message event JSON).
void ChatEndpoint::send_history(ws::ServerConnection& conn, std::string_view room,
                                std::span<RingEntry* const> entries, const RequestId& id) {
    std::vector<std::string_view> messages;
    messages.reserve(entries.size());
    for (RingEntry* e : entries) {
        auto p = e->payload();
        messages.emplace_back(reinterpret_cast<const char*>(p.data()), p.size());
    }
    uint64_t first = entries.empty() ? 0 : entries.front()->room_seq;
    uint64_t last = entries.empty() ? 0 : entries.back()->room_seq;
    out_.clear();
    encode_history(out_, room, messages, first, last, id);
    reply(conn);
}

void ChatEndpoint::rooms(ws::ServerConnection& conn, const ClientMessage& m) {
    auto list = shared_.rooms.list();
    std::vector<RoomSummary> summaries;
    summaries.reserve(list.size());
    for (auto& r : list) summaries.push_back({r.name, r.members});
    out_.clear();
    encode_rooms(out_, summaries, m.id);
    reply(conn);
}

}  // namespace epws::chat
