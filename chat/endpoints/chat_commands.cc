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
// It pins the room, so the room cannot expire (and its id go to another room) while it waits.
class SayPublication final : public Publication {
public:
    SayPublication(RoomRegistry& rooms, Room& room, std::string_view from, std::string_view text,
                   uint32_t origin)
        : rooms_(rooms), pinned_(rooms.pin(room.name())), room_id_(room.id()), room_(room.name()),
          from_(from), text_(text), origin_(origin) {}
    ~SayPublication() override {
        if (pinned_) rooms_.unpin(pinned_);
    }

    bool try_publish(Bus& bus) override {
        return bus.publish_to_room(room_id_, {room_, from_, text_, origin_});
    }

private:
    RoomRegistry& rooms_;
    Room* pinned_;  // the sender is a member when it is made, so the room exists
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
    if (Membership* mem = membership(c, m.room)) {
        // Joining again: presence again, and the replay if since asks for one.
        Room& room = *mem->room_ptr;
        send_presence(conn, room.name(), room.page({}, shared_.config.protocol.max_presence_names), m.id);
        if (mem->pending || m.since) catch_up(c, room, m.since, m.epoch, m.id);
        return;
    }
    if (c.rooms.size() >= shared_.config.rooms_per_connection)
        return error(conn, ProtocolErrorCode::kTooManyRooms, m.id, "room");
    const ChatConfig& cfg = shared_.config;
    // A new room costs its creator a token (the default room, everyone's first, is free).
    auto may_create = [&] {
        return m.room == kDefaultRoom ||
               shared_.users.take_room_token(c.user, loop_.now_ms(), cfg.room_create_rate,
                                             cfg.room_create_burst);
    };
    auto j = shared_.rooms.join(m.room, c.user, cfg.protocol.max_presence_names, may_create);
    if (j.status == RoomRegistry::JoinStatus::kFull) {
        // Every room is taken: expire the idle ones now rather than at the next sweep.
        sweep_rooms(loop_.now_ms());
        j = shared_.rooms.join(m.room, c.user, cfg.protocol.max_presence_names, may_create);
    }
    if (j.status == RoomRegistry::JoinStatus::kCreateRefused)
        return error(conn, ProtocolErrorCode::kCreateRateLimited, m.id, "room");
    if (j.status != RoomRegistry::JoinStatus::kJoined)
        return error(conn, ProtocolErrorCode::kTooManyRooms, m.id, "room");
    Room& room = *j.room;
    // New messages only, unless since asks for a replay: where that starts, the bus says
    // (catch_up below); until then the room's entries are held back. Notices numbered up to
    // j.change are covered by the presence reply; its own join is announced in a later one.
    c.rooms.push_back({room.id(), &room, 0, 0, 0, j.change, true});
    room_members_[room.id()].push_back(slot_of(c));
    if (j.first) changed(room.id());
    // The presence reply comes first (docs/chat-protocol.md, Resume), sent with the bus's
    // answer: a bus across nodes answers a room's first join later, and whatever anyone says
    // after seeing this presence must come after the point that answer starts from.
    catch_up(c, room, m.since, m.epoch, m.id, std::move(j.page));
}

void ChatEndpoint::send_presence(ws::ServerConnection& conn, std::string_view room,
                                 const PresencePage& p, const RequestId& id) {
    std::vector<std::string_view> views(p.users.begin(), p.users.end());
    out_.clear();
    encode_presence(out_, room, views, {p.count, p.more, p.epoch}, id);
    reply(conn);
}

void ChatEndpoint::catch_up(Client& c, const Room& room, std::optional<uint64_t> since,
                            std::optional<uint64_t> epoch, const RequestId& id,
                            std::optional<PresencePage> presence) {
    uint32_t slot = slot_of(c);
    uint64_t conn_id = c.conn_id;
    uint32_t room_id = room.id();
    uint64_t now_epoch = room.epoch();
    // since belongs to an earlier room of this name (it expired): all of this one is new.
    std::optional<uint64_t> expired;
    if (since && epoch && *epoch != now_epoch) {
        expired = since;
        since = 0;
    }
    // Without since, only where the room stands (from > to); with it, everything after.
    uint64_t from = since ? *since + 1 : UINT64_MAX;
    uint64_t to = since ? UINT64_MAX : 0;
    shared_.bus.read_room(loop_index_, room_id, from, to,
                          [this, slot, conn_id, room_id, since, expired, now_epoch,
                           rid = OwnedRequestId(id), name = room.name(),
                           presence = std::move(presence)](const RoomRead& r) {
        Client* live = live_client(slot, conn_id);
        Membership* mem = live ? membership(*live, room_id) : nullptr;
        if (mem == nullptr) return;  // gone, or left the room meanwhile
        if (presence) send_presence(*live->conn, name, *presence, rid.view());
        if (expired) {
            // Every message after it of the room it knew is gone, however many there were.
            out_.clear();
            encode_gap(out_, name, *expired + 1, kMaxSafeInteger, GapReason::kExpired, now_epoch);
            reply(*live->conn);
        }
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
    Membership* mem = membership(c, m.room);
    if (mem == nullptr) return error(conn, ProtocolErrorCode::kNotInRoom, m.id, "room");
    // The name is copied: once the last member has left, the room may expire.
    std::string name = mem->room_ptr->name();
    leave(c, mem->room);
    // The leaver is told (it is no longer a member, so the room's notice skips it).
    out_.clear();
    encode_leave(out_, name, c.user, net::wall_ms());
    reply(conn);
}

void ChatEndpoint::leave(Client& c, uint32_t room_id) {
    auto it = std::find_if(c.rooms.begin(), c.rooms.end(), [&](const Membership& m) { return m.room == room_id; });
    if (it == c.rooms.end()) return;
    Room* room = it->room_ptr;
    c.rooms.erase(it);
    auto members = room_members_.find(room_id);
    if (members != room_members_.end()) {
        // The slot is c's place in clients_, not its connection's tag: on_close clears the tag
        // before it leaves every room, and a stale slot would hand this room's messages to the
        // next connection given the slot.
        std::erase(members->second, slot_of(c));
        if (members->second.empty() && &members->second != delivering_) room_members_.erase(members);
    }
    // Its last connection gone: a leave for the next notice.
    if (room->remove_member(c.user, loop_.now_ms())) changed(room_id);
}

void ChatEndpoint::say(ws::ServerConnection& conn, Client& c, const ClientMessage& m) {
    Membership* mem = membership(c, m.room);
    if (mem == nullptr) return error(conn, ProtocolErrorCode::kNotInRoom, m.id, "room");
    Room* room = mem->room_ptr;
    // Refused rather than kept to be numbered later, out of order with the other nodes.
    if (!shared_.bus.available()) return error(conn, ProtocolErrorCode::kUnavailable, m.id);
    auto origin = static_cast<uint32_t>(loop_index_);
    // The common case publishes at once, with no copy; only a refused one is kept, in order.
    if (outbox_.empty() && shared_.bus.publish_to_room(room->id(), {room->name(), c.user, m.text, origin}))
        return;
    if (!outbox_.publish(std::make_unique<SayPublication>(shared_.rooms, *room, c.user, m.text, origin)))
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
    // Any room, joined or not (docs/chat-protocol.md); one nobody is in may not exist, and is
    // empty. A page at a time: a room of any size costs the same reply.
    send_presence(conn, m.room, shared_.rooms.presence(m.room, m.after, m.limit), m.id);
}

void ChatEndpoint::history(ws::ServerConnection& conn, const ClientMessage& m) {
    // Pinned until the answer, so the room cannot expire and its id go to another meanwhile.
    Room* room = shared_.rooms.pin(m.room);
    if (room == nullptr) {
        out_.clear();  // a room that does not exist (now) has no messages
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
                           rid = OwnedRequestId(m.id), name = room->name(), room](const RoomRead& r) {
        // If the loop stops before the answer, the pin is never released: nothing expires then.
        shared_.rooms.unpin(room);
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
