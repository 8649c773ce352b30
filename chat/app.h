// chat/app.h: the application one event loop runs: /echo, /broadcast and /chat, and the
// delivery of ring entries to this loop's connections. Layer: chat/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/shared.h"
#include "ws/server.h"
#include "ws/server_connection.h"

namespace epws::chat {

// References on history entries read under a room's lock, so they can be sent after it is
// released; released when it goes.
struct Held {
    std::vector<RingEntry*> entries;
    Held() = default;
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    ~Held();
    void hold(const RingEntry& e);
};

// One per loop; every call comes on that loop's thread. Connections are found through their
// app_tag(): index + 1 into clients_.
class App final : public ws::Application {
public:
    App(Shared& shared, size_t loop_index);
    ~App() override;
    void set_server(ws::Server* server) { server_ = server; }

    void on_http(const ws::HttpRequest& req, ws::HttpReply& reply) override;
    ws::HttpError check_websocket(const ws::HttpRequest& req) override;
    void on_open(ws::ServerConnection& ws, const ws::HttpRequest& req) override;
    void on_message(ws::ServerConnection& ws, ws::Opcode op,
                    std::span<const std::byte> payload) override;
    void on_close(ws::ServerConnection& ws, uint16_t code) override;
    void on_drain(ws::ServerConnection& ws) override;

    // The loop's before-wait hook: delivers ring entries, retries refused publications,
    // sends heartbeats. Returns how long the loop may sleep (-1, 0 or milliseconds).
    int before_wait();

private:
    struct Membership {
        uint32_t room;           // room id
        uint64_t delivered = 0;  // highest sequence number sent (or replayed) to this client
        uint64_t gap_from = 0;   // first sequence skipped while it was slow (0: none)
        uint64_t gap_to = 0;
        uint64_t presence = 0;   // the room's presence change number when it joined: notices
                                 // up to it came before (the presence reply covers them)
    };
    struct Client {
        ws::ServerConnection* ws = nullptr;
        uint64_t conn_id = 0;  // in shared_.registry, which holds its counters
        uint32_t user_id = 0;
        std::string user;
        std::vector<Membership> rooms;
        double tokens = 0;
        uint64_t refilled_ms = 0;
        uint32_t refused = 0;  // messages refused for the rate since the last one accepted
    };
    // A publication the ring refused for now; retried before the loop sleeps.
    struct Pending {
        Topic topic;
        uint32_t target;
        uint8_t opcode;
        bool say;          // a chat message: numbered when it is finally published
        std::string body;  // the frame payload, or for say the text
        std::string from, room;
        uint64_t presence = 0;  // a room notice's presence change number
    };

    Client* client_of(ws::ServerConnection& ws);
    uint32_t add_client(ws::ServerConnection& ws);

    // Delivery (app.cc).
    size_t drain_ring();
    void deliver_group(size_t begin, size_t end);
    void send_batch(ws::ServerConnection& to, size_t begin, size_t end, bool room);
    static bool wanted(const RingEntry& e, const Membership& m);
    std::vector<uint32_t>* recipients(const RingEntry& e);
    bool publish_frame(Topic topic, uint32_t target, uint8_t opcode, std::string_view payload,
                       uint64_t room_seq = 0, uint64_t presence = 0);
    // Publishes a message now, or keeps a copy for retry when the ring is full; false when
    // even the retry queue is full. presence: a room notice's presence change number.
    bool publish_or_keep(Topic topic, uint32_t target, uint8_t opcode, std::string_view body,
                         uint64_t presence = 0);
    bool keep(Pending p);
    void retry_pending();
    void send_pings();

    // The chat protocol (chat_handler.cc).
    void open_chat(ws::ServerConnection& ws, Client& c);
    void on_chat(ws::ServerConnection& ws, Client& c, std::span<const std::byte> payload);
    bool take_token(Client& c);
    void join(ws::ServerConnection& ws, Client& c, const ClientMessage& m);
    void leave(Client& c, uint32_t room_id, bool announce);
    void say(ws::ServerConnection& ws, Client& c, const ClientMessage& m);
    void dm(ws::ServerConnection& ws, Client& c, const ClientMessage& m);
    void who(ws::ServerConnection& ws, Client& c, const ClientMessage& m);
    void history(ws::ServerConnection& ws, Client& c, const ClientMessage& m);
    void rooms(ws::ServerConnection& ws, const ClientMessage& m);
    void send_history(ws::ServerConnection& ws, Room& room, const Held& held, const RequestId& id);
    void replay(ws::ServerConnection& ws, Room& room, Membership& mem, uint64_t since,
                const RequestId& id);
    bool publish_say(const std::string& room, const std::string& from, std::string_view text);
    // change: the room's presence change number of this join or leave (Room::add_member).
    void notice(Room& room, std::string_view user, bool joined, uint64_t change);
    void reply(ws::ServerConnection& ws);  // sends out_ as a text frame
    void error(ws::ServerConnection& ws, ProtocolErrorCode code, const RequestId& id,
               std::string_view field = {});
    Membership* membership(Client& c, uint32_t room_id);

    Shared& shared_;
    const size_t loop_;
    ws::Server* server_ = nullptr;
    ProtocolParser parser_;
    std::vector<Client> clients_;
    std::vector<uint32_t> free_slots_;
    std::vector<ws::ServerConnection*> broadcast_;                // /broadcast connections
    std::unordered_map<uint32_t, std::vector<uint32_t>> room_members_;  // room id -> slots
    std::unordered_map<uint32_t, std::vector<uint32_t>> user_slots_;    // user id -> slots
    std::deque<Pending> pending_;
    std::vector<RingEntry*> batch_;       // entries drained this round, released after sending
    std::vector<iovec> iov_;              // their frames, for one writev per recipient
    std::vector<iovec> some_;             // a recipient's subset of iov_ (rarely needed)
    std::vector<std::unique_ptr<ws::Broadcast>> bcast_;  // the group's compressed variants
    std::string out_;                     // JSON scratch
    std::string pending_user_;            // the user check_websocket accepted, for on_open
    uint32_t pending_user_id_ = 0;
    uint64_t next_ping_ms_ = 0;
    bool stopping_ = false;
};

}  // namespace epws::chat
