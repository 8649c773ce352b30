// bench/chat_scenario.cc: U users on /chat spread over R rooms, each saying a stamped text at a
// steady rate; end-to-end latency from the *scheduled* send time (no coordinated omission),
// deliveries/s, and per room: every member gets every seq exactly once, in order, all members
// agree on which message each seq is. Layer: bench/. Speaks docs/chat-protocol.md by hand:
// events are found by key (order-independent); our texts never hold quotes or escapes. With
// --dialect socketio the same events travel as Socket.IO packets (Engine.IO 4: "0" open, "40"
// connect, "2"/"3" ping/pong, "42[name,data]" events) to bench/peers/socketio/server.js.
#include <unistd.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "bench/harness.h"
#include "bench/payload.h"
#include "bench/scenarios.h"

namespace epws::bench {
namespace {

// The string value of "key":"..." in a compact JSON event, or empty. key includes the quotes.
std::string_view string_field(std::string_view json, std::string_view key) {
    size_t at = json.find(key);
    if (at == std::string_view::npos || json.substr(at + key.size(), 2).compare(0, 2, ":\"") != 0)
        return {};
    size_t begin = at + key.size() + 2;
    size_t end = json.find('"', begin);
    return end == std::string_view::npos ? std::string_view{} : json.substr(begin, end - begin);
}

// The unsigned integer value of "key":N, or false.
bool number_field(std::string_view json, std::string_view key, uint64_t& out) {
    size_t at = json.find(key);
    if (at == std::string_view::npos || json.substr(at + key.size(), 1) != ":") return false;
    size_t i = at + key.size() + 1;
    out = 0;
    size_t digits = 0;
    for (; i < json.size() && json[i] >= '0' && json[i] <= '9'; ++i, ++digits)
        out = out * 10 + uint64_t(json[i] - '0');
    return digits > 0;
}

class ChatRun final : public ws::ClientHandler {
public:
    explicit ChatRun(const Options& o)
        : o_(o), users_(o.connections), configs_(o.connections), rooms_(o.rooms),
          text_(o.size), h_(o) {
        out_.reserve(256 + o.size);
    }
    Report run();

    void on_open(ws::ClientConnection& c) override;
    void on_message(ws::ClientConnection& c, ws::Opcode op, std::span<std::byte> p) override;
    void on_closed(ws::ClientConnection& c, uint16_t code, ws::ClientFailure f) override {
        users_[c.tag()].conn = nullptr;
        if (!h_.stopping())
            h_.fail("user " + std::to_string(c.tag()) + " was disconnected during the run (code " +
                    std::to_string(code) + ", " + std::string(ws::failure_name(f)) + ")");
    }

private:
    struct User {
        ws::ClientConnection* conn = nullptr;
        uint32_t room = 0;
        uint64_t said = 0;      // own messages sent (the next one's number)
        uint64_t acked = 0;     // own messages seen coming back, in order
        uint64_t next_seq = 1;  // the next seq of its room it must receive
        bool joined = false;    // presence for its room arrived (lobby left before)
        bool ready = false;
    };
    struct Room {
        std::string name;
        std::string say_prefix;     // {"type":"say","room":"NAME","text":" (Socket.IO: 42["say",{...)
        std::vector<uint64_t> ids;  // [seq - 1] = sender << 32 | its message number
        uint64_t said = 0;          // messages sent into it
    };
    void on_event(User& u, uint32_t tag, std::string_view json);
    void on_chat_message(User& u, uint32_t tag, std::string_view json);
    void send_text(User& u, std::string_view json_prefix, std::string_view body);
    void send_raw(ws::ClientConnection& c, std::string_view text);
    void on_socketio(User& u, ws::ClientConnection& c, std::string_view packet);
    bool socketio() const { return o_.dialect == ChatDialect::kSocketIo; }
    void say_due();
    bool all_delivered() const;
    uint16_t port_of(uint32_t i) const;
    Report finish();

    const Options& o_;
    std::vector<User> users_;
    std::vector<ws::ClientConfig> configs_;  // one per user: the path carries ?username=
    std::vector<Room> rooms_;
    std::vector<std::byte> text_;  // the stamped text being said
    std::string out_;              // the JSON frame being sent (capacity kept)
    Report report_;
    uint64_t said_ = 0;            // messages said in all (the schedule's index)
    uint64_t window_said_ = 0;
    uint64_t delivered_ = 0;       // in the window
    uint64_t schedule_start_ = 0;
    uint32_t open_ = 0;
    uint32_t ready_ = 0;
    bool sending_ = false;
    Harness h_;  // last: destroyed first, so closes at teardown find the tables above intact
};

void ChatRun::send_text(User& u, std::string_view json_prefix, std::string_view body) {
    out_.assign(json_prefix);
    out_ += body;
    out_ += socketio() ? "\"}]" : "\"}";
    if (u.conn)
        u.conn->send_message(ws::Opcode::kText, {reinterpret_cast<const std::byte*>(out_.data()), out_.size()});
}

void ChatRun::send_raw(ws::ClientConnection& c, std::string_view text) {
    c.send_message(ws::Opcode::kText, {reinterpret_cast<const std::byte*>(text.data()), text.size()});
}

// Engine.IO 4 packet types: 0 open, 2 ping, 3 pong, 4 message; Socket.IO inside 4: 0 connect,
// 1 disconnect, 2 event, 4 connect error. The server speaks first ("0{...}").
void ChatRun::on_socketio(User& u, ws::ClientConnection& c, std::string_view packet) {
    uint32_t tag = c.tag();
    if (packet.substr(0, 2) == "42") return on_event(u, tag, packet.substr(2));
    if (packet == "2") return send_raw(c, "3");  // the server's ping, answered at once
    if (packet.substr(0, 1) == "0") return send_raw(c, "40");
    if (packet.substr(0, 2) == "40") {
        out_.assign("42[\"join\",\"");
        out_ += rooms_[u.room].name;
        out_ += "\"]";
        return send_raw(c, out_);
    }
    h_.fail("user " + std::to_string(tag) + " got an unexpected Socket.IO packet: " +
            std::string(packet.substr(0, 200)));
}

void ChatRun::on_open(ws::ClientConnection& c) {
    ++open_;
    if (socketio()) return;  // the server's open packet comes first
    User& u = users_[c.tag()];
    // Out of lobby (everyone starts there: docs/chat-protocol.md), then into its own room. The
    // server handles one connection's messages in order, so the presence that answers the join
    // also says the leave is done (the leaver gets no leave notice of its own).
    out_.assign("{\"type\":\"leave\",\"room\":\"lobby\"}");
    c.send_message(ws::Opcode::kText, {reinterpret_cast<const std::byte*>(out_.data()), out_.size()});
    send_text(u, "{\"type\":\"join\",\"room\":\"", rooms_[u.room].name);
}

void ChatRun::on_message(ws::ClientConnection& c, ws::Opcode op, std::span<std::byte> p) {
    uint32_t tag = c.tag();
    if (op != ws::Opcode::kText) return h_.fail("user " + std::to_string(tag) + " got a binary frame");
    std::string_view text{reinterpret_cast<const char*>(p.data()), p.size()};
    if (socketio()) return on_socketio(users_[tag], c, text);
    on_event(users_[tag], tag, text);
}

void ChatRun::on_event(User& u, uint32_t tag, std::string_view json) {
    std::string_view type = string_field(json, "\"type\"");
    if (type == "message") return on_chat_message(u, tag, json);
    if (type == "presence" && string_field(json, "\"room\"") == rooms_[u.room].name) u.joined = true;
    if (type == "error" || type == "gap")
        return h_.fail("user " + std::to_string(tag) + " got " + std::string(json) +
                       (type == "gap" ? " (messages skipped)"
                                      : " (a refused say: raise the server's --rate/--burst)"));
    if (!u.ready && u.joined) {
        u.ready = true;
        ++ready_;
    }
}

void ChatRun::on_chat_message(User& u, uint32_t tag, std::string_view json) {
    uint64_t now = now_ns();
    Room& room = rooms_[u.room];
    uint64_t seq = 0;
    Stamp s;
    std::string_view text = string_field(json, "\"text\"");
    if (string_field(json, "\"room\"") != room.name || !number_field(json, "\"seq\"", seq) ||
        !read_stamp({reinterpret_cast<const std::byte*>(text.data()), text.size()}, s) ||
        s.publisher >= users_.size() || users_[s.publisher].room != u.room || text.size() != o_.size)
        return h_.fail("user " + std::to_string(tag) + " got a malformed or misrouted message: " +
                       std::string(json.substr(0, 200)));
    // Every member sees every seq of its room, once, in order (docs/chat-protocol.md).
    if (seq != u.next_seq)
        return h_.fail("user " + std::to_string(tag) + " in " + room.name + " expected seq " +
                       std::to_string(u.next_seq) + ", got " + std::to_string(seq) +
                       (seq < u.next_seq ? ": duplicated or reordered" : ": lost (a gap)"));
    ++u.next_seq;
    uint64_t id = uint64_t(s.publisher) << 32 | (s.seq & 0xffffffffu);
    if (seq > room.ids.size()) {
        room.ids.push_back(id);  // reserved up front: no allocation in steady state
    } else if (room.ids[seq - 1] != id) {
        return h_.fail("members of " + room.name + " disagree on what seq " + std::to_string(seq) + " is");
    }
    if (s.publisher == tag) {  // our own say came back: its seq is the acknowledgement
        if (s.seq != u.acked)
            return h_.fail("user " + std::to_string(tag) + " got its message " + std::to_string(s.seq) +
                           " back, expected " + std::to_string(u.acked));
        ++u.acked;
    }
    if (h_.count_op()) {
        ++delivered_;
        report_.latency.record(now > s.sent_ns ? now - s.sent_ns : 0);
    }
}

// Message n of the run is due at start + n / (U * rate) and goes to user n mod U: every user
// says `rate` per second, the users evenly staggered.
void ChatRun::say_due() {
    if (!sending_) return;
    const size_t speakers = o_.speakers != 0 && o_.speakers < users_.size() ? o_.speakers : users_.size();
    const double total_rate = o_.rate * double(speakers);
    auto due = static_cast<uint64_t>(double(now_ns() - schedule_start_) * total_rate / 1e9) + 1;
    while (said_ < due) {
        uint64_t at = schedule_start_ + static_cast<uint64_t>(double(said_) * 1e9 / total_rate);
        auto tag = static_cast<uint32_t>(said_ % speakers);
        User& u = users_[tag];
        write_stamp(text_.data(), text_.size(), Stamp{tag, u.said, at});
        ++u.said;
        ++rooms_[u.room].said;
        ++said_;
        if (h_.in_window()) ++window_said_;
        send_text(u, rooms_[u.room].say_prefix, {reinterpret_cast<const char*>(text_.data()), text_.size()});
    }
}

bool ChatRun::all_delivered() const {
    for (const User& u : users_)
        if (u.next_seq - 1 != rooms_[u.room].said) return false;
    return true;
}

Report ChatRun::run() {
    report_.options = o_;
    report_.has_latency = true;
    std::string err;
    if (!h_.init(err)) return h_.fail(err), finish();
    // Fresh rooms for each run, so their seqs start at 1 on a server that outlives the run.
    std::string prefix = "bench-" + std::to_string(getpid()) + "-" + std::to_string(now_ns() % 1000000);
    // Every room's ids for warm-up, window and slack, reserved before the first message.
    auto per_room = static_cast<size_t>(o_.rate * double(users_.size()) *
                                        (o_.warmup_s + o_.duration_s + 2) * 1.5 / double(o_.rooms)) + 64;
    for (uint32_t r = 0; r < o_.rooms; ++r) {
        rooms_[r].name = prefix + "-" + std::to_string(r);
        rooms_[r].say_prefix = std::string(socketio() ? "42[\"say\"," : "") +
                               "{\"type\":\"say\",\"room\":\"" + rooms_[r].name + "\",\"text\":\"";
        rooms_[r].ids.reserve(per_room);
    }
    for (uint32_t i = 0; i < users_.size() && !h_.failed(); ++i) {
        configs_[i] = h_.client_config();
        configs_[i].path = socketio() ? "/socket.io/?EIO=4&transport=websocket&username=u" + std::to_string(i)
                                      : o_.path + "?username=u" + std::to_string(i);
        users_[i].room = i % o_.rooms;
        users_[i].conn = h_.connect(*this, i, err, &configs_[i], port_of(i));
        if (!users_[i].conn) h_.fail("connect: " + err);
    }
    if (h_.failed()) return finish();
    h_.set_progress([this] {
        return std::to_string(ready_) + " ready, " + std::to_string(said_) + " said, " +
               std::to_string(delivered_) + " deliveries measured";
    });
    if (!h_.run_until([&] { return ready_ == users_.size(); }, now_ns() + seconds_ns(kConnectSeconds)))
        h_.fail("only " + std::to_string(ready_) + " of " + std::to_string(users_.size()) +
                " users joined their rooms (" + std::to_string(open_) + " open)");
    sending_ = true;
    schedule_start_ = now_ns();
    auto tick = [this] { say_due(); };
    h_.run_until([] { return false; }, now_ns() + seconds_ns(o_.warmup_s), tick, 1);
    h_.begin_window(report_);
    h_.run_until([] { return false; }, now_ns() + seconds_ns(o_.duration_s), tick, 1);
    h_.end_window(report_);
    h_.extra_window(report_, tick, 1);
    report_.operations = delivered_;
    report_.published = window_said_;
    sending_ = false;
    if (!h_.run_until([&] { return all_delivered(); }, now_ns() + seconds_ns(kDrainSeconds)))
        h_.fail("not every member got every message of its room (lost)");
    return finish();
}

// Which node user i talks to (--ports): with listeners apart (--speakers), speakers on the
// first node and listeners over the others, so every delivery crosses nodes.
uint16_t ChatRun::port_of(uint32_t i) const {
    const auto& p = o_.ports;
    if (p.empty()) return 0;
    bool apart = o_.speakers != 0 && o_.speakers < users_.size() && p.size() > 1;
    if (!apart) return p[i % p.size()];
    return i < o_.speakers ? p[0] : p[1 + (i - o_.speakers) % (p.size() - 1)];
}

Report ChatRun::finish() { return h_.finish(report_); }

}  // namespace

Report run_chat(const Options& options) {
    auto run = std::make_unique<ChatRun>(options);
    return run->run();
}

}  // namespace epws::bench
