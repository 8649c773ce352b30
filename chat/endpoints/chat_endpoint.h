// chat/endpoints/chat_endpoint.h: /chat, the chat protocol of one loop (docs/chat-protocol.md):
// identity at the handshake, then rooms, messages, direct messages, presence and history, and
// the delivery of room and user entries from the bus to this loop's members. Layer: chat/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/bus.h"
#include "chat/config.h"
#include "chat/connection_registry.h"
#include "chat/endpoints/delivery.h"
#include "chat/endpoints/outbox.h"
#include "chat/protocol.h"
#include "chat/rooms.h"
#include "net/counter.h"
#include "net/loop.h"
#include "ws/endpoint.h"

namespace epws::chat {

// Everyone starts in it, and nobody can be outside it but by leaving. Creating it is free.
inline constexpr std::string_view kDefaultRoom = "lobby";

// What every loop's chat shares: settings and the cross-loop state. Thread-safe; not owned.
struct ChatShared {
    const ChatConfig& config;
    Bus& bus;
    RoomRegistry& rooms;
    UserRegistry& users;
    ConnectionRegistry& registry;  // every /chat connection's counters, for /api/connections
};

// One loop's chat counters. Written on that loop only (net::Counter); any thread may read.
struct ChatStats {
    net::Counter rate_limited;   // messages refused for the rate (error rate_limited)
    net::Counter rate_closes;    // connections closed 1008 for ignoring the rate
    net::Counter slow_skips;     // rounds of room messages skipped for a slow consumer
    net::Counter slow_gaps;      // gap events sent (reason slow_consumer) once one drained
};

// One per loop; every call comes on that loop's thread. A connection's tag is its slot in
// clients_ + 1.
class ChatEndpoint final : public ws::Endpoint, public TopicSink {
public:
    ChatEndpoint(ChatShared shared, net::Loop& loop, size_t loop_index, Outbox& outbox);
    ~ChatEndpoint() override;

    ws::HttpError accept(ws::ServerConnection& conn, const ws::HttpRequest& req) override;
    void on_open(ws::ServerConnection& conn) override;
    void on_message(ws::ServerConnection& conn, ws::Opcode op,
                    std::span<const std::byte> payload) override;
    void on_drain(ws::ServerConnection& conn) override;
    void on_close(ws::ServerConnection& conn, uint16_t code) override;
    // Room messages and notices, and direct messages, for this loop's members (chat_delivery.cc).
    void deliver(Group& group) override;
    // Called before the loop sleeps: publishes the presence notices of the rooms whose members
    // this loop changed since the last call (one notice per room however many joined or left),
    // expires idle rooms now and then, and sends the heartbeat pings when their interval has
    // passed.
    void tick(uint64_t now_ms);
    const ChatStats& stats() const { return stats_; }

private:
    struct Membership {
        uint32_t room;           // room id
        Room* room_ptr;          // stable while it is a member (RoomRegistry)
        uint64_t delivered = 0;  // highest sequence number sent (or replayed) to this client
        uint64_t gap_from = 0;   // first sequence skipped while it was slow (0: none)
        uint64_t gap_to = 0;
        uint64_t presence = 0;   // the room's last notice number when it joined: notices up
                                 // to it came before (the presence reply covers them)
        bool pending = false;    // joined, the bus's answer (where it starts) not in yet: the
                                 // room's entries are held back (the answer covers them)
    };
    struct Client {
        ws::ServerConnection* conn = nullptr;  // null: a free slot
        uint64_t conn_id = 0;  // in shared_.registry, which holds its counters
        uint32_t user_id = 0;
        std::string user;
        std::vector<Membership> rooms;
        double tokens = 0;
        uint64_t refilled_ms = 0;
        uint32_t refused = 0;  // messages refused for the rate since the last one accepted
    };

    // A request id kept past its message (for an answer the bus gives later).
    struct OwnedRequestId {
        RequestId::Kind kind;
        std::string text;
        uint64_t number;
        explicit OwnedRequestId(const RequestId& id) : kind(id.kind), text(id.text), number(id.number) {}
        RequestId view() const { return {kind, text, number}; }
    };

    Client& client_of(ws::ServerConnection& conn) { return clients_[conn.tag() - 1]; }
    // The client in slot if it is still the connection conn_id (an answer may outlive it).
    Client* live_client(uint32_t slot, uint64_t conn_id);
    uint32_t slot_of(const Client& c) const { return static_cast<uint32_t>(&c - clients_.data()); }
    Membership* membership(Client& c, uint32_t room_id);
    Membership* membership(Client& c, std::string_view room_name);
    bool take_token(Client& c);

    // The commands (chat_commands.cc).
    void dispatch(ws::ServerConnection& conn, Client& c, const ClientMessage& m);
    void join(ws::ServerConnection& conn, Client& c, const ClientMessage& m);
    void leave_command(ws::ServerConnection& conn, Client& c, const ClientMessage& m);
    void leave(Client& c, uint32_t room_id);
    void say(ws::ServerConnection& conn, Client& c, const ClientMessage& m);
    void dm(ws::ServerConnection& conn, Client& c, const ClientMessage& m);
    void who(ws::ServerConnection& conn, const ClientMessage& m);
    void history(ws::ServerConnection& conn, const ClientMessage& m);
    void rooms(ws::ServerConnection& conn, const ClientMessage& m);
    // Asks the bus where the member starts in room: at its end, or after `since` with what
    // followed it replayed (a gap for what is no longer kept, then one history event).
    // With an epoch other than the room's, since was about an earlier room of that name: the
    // member is told (a gap, reason expired) and gets the new room's messages from the start.
    void catch_up(Client& c, const Room& room, std::optional<uint64_t> since,
                  std::optional<uint64_t> epoch, const RequestId& id,
                  std::optional<PresencePage> presence = std::nullopt);
    void send_history(ws::ServerConnection& conn, std::string_view room,
                      std::span<RingEntry* const> entries, const RequestId& id);
    void send_presence(ws::ServerConnection& conn, std::string_view room, const PresencePage& p,
                       const RequestId& id);
    // Presence notices (chat_presence.cc): the rooms this loop changed, published at tick().
    void changed(uint32_t room_id) { dirty_rooms_.push_back(room_id); }
    void publish_presence();
    void sweep_rooms(uint64_t now_ms);
    void reply(ws::ServerConnection& conn);  // sends out_ as a text frame
    void error(ws::ServerConnection& conn, ProtocolErrorCode code, const RequestId& id,
               std::string_view field = {});

    // Delivery (chat_delivery.cc).
    static bool wanted(const RingEntry& e, const Membership& m);
    void deliver_to_member(ws::ServerConnection& to, Group& group);

    ChatShared shared_;
    net::Loop& loop_;
    const size_t loop_index_;
    Outbox& outbox_;
    ProtocolParser parser_;
    std::vector<Client> clients_;
    std::vector<uint32_t> free_slots_;
    std::unordered_map<uint32_t, std::vector<uint32_t>> room_members_;  // room id -> slots
    std::unordered_map<uint32_t, std::vector<uint32_t>> user_slots_;    // user id -> slots
    std::string out_;               // JSON scratch
    std::vector<uint32_t> wanted_;  // a member's share of a group (rarely needed)
    // The recipient list deliver() is walking: a close meanwhile may empty it but must not
    // erase it from its map.
    const std::vector<uint32_t>* delivering_ = nullptr;
    uint64_t next_ping_ms_ = 0;
    ChatStats stats_;
    uint64_t next_sweep_ms_ = 0;
    std::vector<uint32_t> dirty_rooms_;  // rooms with joins or leaves not yet announced
};

}  // namespace epws::chat
