// chat/protocol_events.cc: the chat protocol's server events, written by hand as JSON (the
// parser of client frames is chat/protocol.cc). Layer: chat/. No I/O.
#include <array>
#include <charconv>
#include <cstring>

#include "chat/protocol.h"

namespace epws::chat {

namespace {

// 0: copy; otherwise the character after the backslash ('u' means \u00XX).
constexpr std::array<char, 256> make_escape_table() {
    std::array<char, 256> t{};
    for (size_t c = 0; c < 0x20; ++c)
        t[c] = 'u';
    t['\b'] = 'b';
    t['\f'] = 'f';
    t['\n'] = 'n';
    t['\r'] = 'r';
    t['\t'] = 't';
    t['"'] = '"';
    t['\\'] = '\\';
    return t;
}
constexpr std::array<char, 256> kEscape = make_escape_table();

void append_uint(std::string& out, uint64_t n) {
    char buf[20];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, r.ptr);
}

// Appends `,"key":`, the key written literally: keys are ours. begin() has written the first field.
void key(std::string& out, std::string_view k) {
    out += ',';
    out += '"';
    out.append(k);
    out += "\":";
}

void str_field(std::string& out, std::string_view k, std::string_view v) {
    key(out, k);
    append_json_string(out, v);
}

void uint_field(std::string& out, std::string_view k, uint64_t v) {
    key(out, k);
    append_uint(out, v);
}

void begin(std::string& out, std::string_view type) {
    out += "{\"type\":\"";
    out.append(type);
    out += '"';
}

void id_field(std::string& out, const RequestId& id) {
    if (id.kind == RequestId::Kind::kString) str_field(out, "id", id.text);
    if (id.kind == RequestId::Kind::kNumber) uint_field(out, "id", id.number);
}

void string_array(std::string& out, std::string_view k, std::span<const std::string_view> items) {
    key(out, k);
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, items[i]);
    }
    out += ']';
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    size_t run = 0; // start of the bytes not yet copied
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        const char e = kEscape[c];
        if (e == 0) continue;
        out.append(s.data() + run, i - run); // copy clean runs whole, not byte by byte
        run = i + 1;
        out += '\\';
        out += e;
        if (e == 'u') {
            out += "00";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        }
    }
    out.append(s.data() + run, s.size() - run);
    out += '"';
}

void encode_welcome(std::string& out, std::string_view user,
                    std::span<const std::string_view> rooms, uint64_t server_time,
                    uint64_t connection_id) {
    begin(out, "welcome");
    str_field(out, "user", user);
    string_array(out, "rooms", rooms);
    uint_field(out, "server_time", server_time);
    uint_field(out, "connection_id", connection_id);
    out += '}';
}

void encode_message(std::string& out, std::string_view room, uint64_t seq, std::string_view from,
                    std::string_view text, uint64_t ts) {
    begin(out, "message");
    str_field(out, "room", room);
    uint_field(out, "seq", seq);
    str_field(out, "from", from);
    str_field(out, "text", text);
    uint_field(out, "ts", ts);
    out += '}';
}

void encode_dm(std::string& out, std::string_view from, std::string_view to, std::string_view text,
               uint64_t ts) {
    begin(out, "dm");
    str_field(out, "from", from);
    str_field(out, "to", to);
    str_field(out, "text", text);
    uint_field(out, "ts", ts);
    out += '}';
}

// join and leave carry the same fields.
static void encode_membership(std::string& out, std::string_view type, std::string_view room,
                              std::string_view user, uint64_t ts) {
    begin(out, type);
    str_field(out, "room", room);
    str_field(out, "user", user);
    uint_field(out, "ts", ts);
    out += '}';
}

void encode_join(std::string& out, std::string_view room, std::string_view user, uint64_t ts) {
    encode_membership(out, "join", room, user, ts);
}

void encode_leave(std::string& out, std::string_view room, std::string_view user, uint64_t ts) {
    encode_membership(out, "leave", room, user, ts);
}

void encode_presence(std::string& out, std::string_view room,
                     std::span<const std::string_view> users, const PresenceTotals& totals,
                     const RequestId& id) {
    begin(out, "presence");
    str_field(out, "room", room);
    string_array(out, "users", users);
    uint_field(out, "count", totals.count);
    key(out, "more");
    out += totals.more ? "true" : "false";
    if (totals.epoch != 0) uint_field(out, "epoch", totals.epoch);
    id_field(out, id);
    out += '}';
}

void encode_presence_change(std::string& out, std::string_view room,
                            std::span<const std::string_view> joined,
                            std::span<const std::string_view> left, uint64_t omitted,
                            uint64_t count, uint64_t ts) {
    begin(out, "presence_change");
    str_field(out, "room", room);
    // An empty list is left out: most notices are one join or one leave, sent to every member.
    if (!joined.empty()) string_array(out, "joined", joined);
    if (!left.empty()) string_array(out, "left", left);
    if (omitted != 0) uint_field(out, "omitted", omitted);
    uint_field(out, "count", count);
    uint_field(out, "ts", ts);
    out += '}';
}

void encode_history(std::string& out, std::string_view room,
                    std::span<const std::string_view> messages, uint64_t from, uint64_t to,
                    const RequestId& id) {
    begin(out, "history");
    str_field(out, "room", room);
    key(out, "messages");
    out += '[';
    for (size_t i = 0; i < messages.size(); ++i) {
        if (i) out += ',';
        out.append(messages[i]); // already JSON: written by encode_message
    }
    out += ']';
    uint_field(out, "from", from);
    uint_field(out, "to", to);
    id_field(out, id);
    out += '}';
}

void encode_gap(std::string& out, std::string_view room, uint64_t from, uint64_t to,
                GapReason reason, uint64_t epoch) {
    begin(out, "gap");
    str_field(out, "room", room);
    uint_field(out, "from", from);
    uint_field(out, "to", to);
    str_field(out, "reason", reason == GapReason::kHistory        ? "history"
                             : reason == GapReason::kSlowConsumer ? "slow_consumer"
                                                                  : "expired");
    if (epoch != 0) uint_field(out, "epoch", epoch);
    out += '}';
}

void encode_pong(std::string& out, const RequestId& id, uint64_t ts) {
    begin(out, "pong");
    id_field(out, id);
    uint_field(out, "ts", ts);
    out += '}';
}

void encode_rooms(std::string& out, std::span<const RoomSummary> rooms, const RequestId& id) {
    begin(out, "rooms");
    key(out, "rooms");
    out += '[';
    for (size_t i = 0; i < rooms.size(); ++i) {
        out += i ? ",{\"name\":" : "{\"name\":";
        append_json_string(out, rooms[i].name);
        uint_field(out, "members", rooms[i].members);
        out += '}';
    }
    out += ']';
    id_field(out, id);
    out += '}';
}

void encode_error(std::string& out, ProtocolErrorCode code, const RequestId& id,
                  std::string_view field) {
    begin(out, "error");
    str_field(out, "code", error_code_string(code));
    str_field(out, "reason", error_reason(code));
    if (!field.empty()) str_field(out, "field", field);
    id_field(out, id);
    out += '}';
}

} // namespace epws::chat
