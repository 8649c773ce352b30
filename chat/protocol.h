// chat/protocol.h: the chat protocol codec: parses client JSON text frames into ClientMessage and
// encodes every server event as compact JSON. Layer: chat/. Codecs do no I/O; the spec for client
// authors is docs/chat-protocol.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "chat/names.h"

namespace epws::chat {

// Every limit a client controls in a chat message, with its documented default.
struct ProtocolLimits {
    size_t max_frame_bytes = 16 * 1024; // a whole client frame; checked before parsing
    size_t max_text_bytes = 4096;       // say / dm text, in UTF-8 bytes
    size_t max_room_bytes = kMaxRoomNameBytes;
    size_t max_user_code_points = kMaxUserNameCodePoints;
    size_t max_id_bytes = 64;         // a string request id
    uint64_t max_history_limit = 100; // history "limit", and its default when absent
    uint64_t max_presence_names = 100; // names in a presence reply or notice; who "limit" cap
    size_t max_json_depth = 16;       // nesting, counting the top-level object
};

// Integers on the wire stay below 2^53 so that JavaScript clients read them exactly.
inline constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

// Why a client message was refused (the codec's causes), or what the server refuses to do (the
// application's causes, sent by the chat server). One value per cause; error.cc-style table in
// protocol.cc gives each its wire code and human reason.
enum class ProtocolErrorCode : uint8_t {
    kNone,
    // The frame itself.
    kTooLarge,       // frame over max_frame_bytes
    kInvalidUtf8,    // frame bytes are not UTF-8: never sent on /chat, where the WebSocket layer
                     // closes with 1007 first (RFC 6455 §8.1); kept for callers without it
    kBadJson,        // not JSON, trailing garbage, nesting over max_json_depth
    kBadEscape,      // a string escape is invalid: \x, or an unpaired surrogate \ud800
    kBadNumber,      // a number JSON cannot hold: 01, 1e400, 2^64
    kNotObject,      // the top level is not an object
    kDuplicateField, // a known field appears twice
    // The envelope.
    kMissingType,      // no "type"
    kUnknownType,      // "type" names no message
    kMissingField,     // a required field is absent
    kWrongType,        // a field has the wrong JSON type (the field is named)
    kNotInteger,       // a number field holds 1.5, 1.0 or 1e2
    kNumberOutOfRange, // an integer field is negative, over 2^53 - 1 or over its limit
    kBadId,            // a string "id" over max_id_bytes
    kBadRange,         // history "to" before "from", or "limit" 0
    // Field contents.
    kBadRoomName,       // fails is_valid_room_name
    kBadUserName,       // fails is_valid_user_name
    kTextEmpty,         // text empty or only whitespace and hidden code points
    kTextTooLong,       // text over max_text_bytes
    kControlCharacters, // text holds a control character other than tab and newline
    // The application's refusals (never produced by the parser).
    kRateLimited,      // over the sender's token bucket; the message was dropped
    kNotInRoom,        // say / leave on a room the sender has not joined
    kTooManyRooms,     // join over the per-connection room limit
    kUnknownUser,      // dm to a user with no open connection
    kCreateRateLimited, // join of a new room over the user's room-creation rate
    kUnauthorized,     // missing, malformed, wrongly signed or expired token: never an error
                       // event, the handshake answers 401 (chat/endpoints/chat_endpoint.cc);
                       // kept so codes stay
    kUserNameMismatch, // the URL's username differs from the token's subject: likewise a 401
    kUnavailable,      // say while the store that orders the room (Redis) is unreachable
    kInternal,         // the server's own failure
};
inline constexpr size_t kProtocolErrorCodeCount =
    static_cast<size_t>(ProtocolErrorCode::kInternal) + 1;

// The wire code ("bad_json", "rate_limited", ...): stable, for programs. "none" for kNone.
std::string_view error_code_string(ProtocolErrorCode code);
// One sentence for people ("the message is not valid JSON").
std::string_view error_reason(ProtocolErrorCode code);

enum class MessageType : uint8_t { kJoin, kLeave, kSay, kDm, kWho, kHistory, kRooms, kPing };

// A client's request id, echoed in the reply and in errors: a string of up to max_id_bytes or an
// integer 0..2^53-1. `text` points into the parser's buffer (see ClientMessage).
struct RequestId {
    enum class Kind : uint8_t { kNone, kString, kNumber };
    Kind kind = Kind::kNone;
    std::string_view text;
    uint64_t number = 0;

    static RequestId none() { return {}; }
    static RequestId of(uint64_t n) { return {Kind::kNumber, {}, n}; }
    static RequestId of(std::string_view s) { return {Kind::kString, s, 0}; }
};

// One parsed client message. Only the fields of its type are set; the others are empty. Every
// string_view points into the ProtocolParser that produced it and stays valid until that
// parser's next parse() call or its destruction.
struct ClientMessage {
    MessageType type = MessageType::kPing;
    std::string_view room;         // join, leave, say, who, history
    std::string_view text;         // say, dm: validated, not trimmed
    std::string_view to;           // dm: the recipient's user name
    std::optional<uint64_t> since; // join: the last seq the client has; replay what follows
    std::optional<uint64_t> epoch; // join: the room's epoch that since belongs to
    std::string_view after;        // who: list members after this name
    uint64_t from = 0;             // history: first seq wanted
    std::optional<uint64_t> until; // history: last seq wanted (wire name "to")
    uint64_t limit = 0;            // history, who: at most this many (default: the max)
    RequestId id;
};

struct ParseResult {
    ProtocolErrorCode error = ProtocolErrorCode::kNone;
    std::string_view field; // the offending field's name when one is to blame (static storage)
    bool ok() const { return error == ProtocolErrorCode::kNone; }
};

// Parses client frames with simdjson's DOM parser (the whole document is validated, not just the
// fields we read). Reuses its buffers: after the first frame of a given size, parse() does not
// allocate. Not thread-safe; one per loop. Never throws past parse().
class ProtocolParser {
public:
    explicit ProtocolParser(const ProtocolLimits& limits = {});
    ~ProtocolParser();
    ProtocolParser(const ProtocolParser&) = delete;
    ProtocolParser& operator=(const ProtocolParser&) = delete;

    // Parses one complete text frame into out. On error, out.id is still set when the frame had
    // a usable "id", so the error reply can echo it; the other fields are unspecified. The id is
    // read once the frame is known to be one JSON object (so never with kTooLarge, kBadJson,
    // kBadEscape, kBadNumber, kInvalidUtf8 or kNotObject) and given once and valid (so never
    // with kBadId, or kDuplicateField on "id" itself); every other error carries it.
    // Unknown fields are ignored; a known field given twice is kDuplicateField.
    ParseResult parse(std::string_view frame, ClientMessage& out);

    const ProtocolLimits& limits() const { return limits_; }

private:
    struct Impl;
    ProtocolLimits limits_;
    std::unique_ptr<Impl> impl_;
};

// Server -> client events. Each appends one compact JSON object to out (nothing is cleared), so a
// caller that reuses out does not allocate once out's capacity suffices. Strings must be valid
// UTF-8 (everything the parser and names.h accept is). Timestamps are milliseconds since the Unix
// epoch. Encode a broadcast once and share the bytes among its recipients.

// JSON string escaping as JavaScript's JSON.stringify does it: `"` and `\` escaped, \b \f \n \r \t
// by their short forms, other bytes below 0x20 as \u00XX; everything else, non-ASCII UTF-8
// included, copied as is. Appends the surrounding quotes.
void append_json_string(std::string& out, std::string_view s);

// connection_id: this connection's id for GET /api/connections?id= (unique in the process).
void encode_welcome(std::string& out, std::string_view user,
                    std::span<const std::string_view> rooms, uint64_t server_time,
                    uint64_t connection_id);
void encode_message(std::string& out, std::string_view room, uint64_t seq, std::string_view from,
                    std::string_view text, uint64_t ts);
void encode_dm(std::string& out, std::string_view from, std::string_view to, std::string_view text,
               uint64_t ts);
void encode_join(std::string& out, std::string_view room, std::string_view user, uint64_t ts);
void encode_leave(std::string& out, std::string_view room, std::string_view user, uint64_t ts);
// A page of a room's members (at most max_presence_names), how many there are in all, whether
// names follow the page, and the room's epoch (0: no such room, not written).
struct PresenceTotals {
    uint64_t count = 0;
    bool more = false;
    uint64_t epoch = 0;
};
void encode_presence(std::string& out, std::string_view room,
                     std::span<const std::string_view> users, const PresenceTotals& totals,
                     const RequestId& id);
// The joins and leaves of a room since its last notice, in one event (omitted: names left out
// over the cap; count: members now). An empty list is not written.
void encode_presence_change(std::string& out, std::string_view room,
                            std::span<const std::string_view> joined,
                            std::span<const std::string_view> left, uint64_t omitted,
                            uint64_t count, uint64_t ts);
// `messages` are message objects exactly as encode_message wrote them (a room keeps its history
// encoded, so a replay copies bytes instead of re-escaping). from..to is the range covered.
void encode_history(std::string& out, std::string_view room,
                    std::span<const std::string_view> messages, uint64_t from, uint64_t to,
                    const RequestId& id);

// kExpired: the room that `since` was about expired and was made anew (epoch: the new one).
enum class GapReason : uint8_t { kHistory, kSlowConsumer, kExpired };
// Messages from..to of room will not arrive as message events (see docs/chat-protocol.md).
void encode_gap(std::string& out, std::string_view room, uint64_t from, uint64_t to,
                GapReason reason, uint64_t epoch = 0);
void encode_pong(std::string& out, const RequestId& id, uint64_t ts);

struct RoomSummary {
    std::string_view name;
    uint64_t members = 0;
};
void encode_rooms(std::string& out, std::span<const RoomSummary> rooms, const RequestId& id);
// {type:"error", code, reason, field?, id?}; field is the offending field's name, if any.
void encode_error(std::string& out, ProtocolErrorCode code, const RequestId& id,
                  std::string_view field = {});

} // namespace epws::chat
