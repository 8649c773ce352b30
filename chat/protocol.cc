// chat/protocol.cc: the chat protocol's parser: client frames read with simdjson's DOM parser
// (the events the server writes are chat/protocol_events.cc). Layer: chat/. No I/O. Why
// simdjson: docs/chat-protocol.md.
#include "chat/protocol.h"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <cstring>

#include "ws/utf8.h"

namespace epws::chat {

namespace {

struct ErrorInfo {
    std::string_view code;
    std::string_view reason;
};

// The one table: index = ProtocolErrorCode. Codes are part of the protocol; never rename one.
constexpr std::array<ErrorInfo, kProtocolErrorCodeCount> kErrors = {{
    {"none", "no error"},
    {"too_large", "the message is larger than the server accepts"},
    {"invalid_utf8", "the message is not valid UTF-8"},
    {"bad_json", "the message is not valid JSON"},
    {"bad_escape", "a string holds an invalid escape or an unpaired surrogate"},
    {"bad_number", "a number is malformed or too large to represent"},
    {"not_object", "the message is not a JSON object"},
    {"duplicate_field", "a field appears more than once"},
    {"missing_type", "the message has no \"type\""},
    {"unknown_type", "the message type is unknown"},
    {"missing_field", "a required field is missing"},
    {"wrong_type", "a field has the wrong JSON type"},
    {"not_integer", "a number field must be an integer without fraction or exponent"},
    {"out_of_range", "a number is negative or too large"},
    {"bad_id", "the id is too long"},
    {"bad_range", "the history range is empty or reversed"},
    {"bad_room", "the room name is not allowed"},
    {"bad_user", "the user name is not allowed"},
    {"text_empty", "the text is empty or only whitespace and invisible characters"},
    {"text_too_long", "the text is longer than the server accepts"},
    {"control_characters", "the text holds control characters"},
    {"rate_limited", "too many messages; this one was dropped"},
    {"not_in_room", "you have not joined this room"},
    {"too_many_rooms", "you have joined too many rooms"},
    {"unknown_user", "no such user is online"},
    {"create_rate_limited", "you are creating rooms too fast; join an existing one or wait"},
    {"unauthorized", "the token is missing, invalid or expired"},
    {"username_mismatch", "the username differs from the token's subject"},
    {"unavailable", "messages cannot be ordered now (the message store is unreachable); try again"},
    {"internal", "the server failed"},
}};

// The fields the parser reads; anything else is ignored. Index = slot in Fields::value.
enum Field : uint8_t {
    kType, kRoom, kText, kTo, kSince, kFrom, kLimit, kId, kAfter, kEpoch, kFieldCount
};
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "type", "room", "text", "to", "since", "from", "limit", "id", "after", "epoch"};

struct Fields {
    std::array<simdjson::dom::element, kFieldCount> value;
    std::array<bool, kFieldCount> present{};
};

struct TypeName {
    std::string_view name;
    MessageType type;
};
constexpr std::array<TypeName, 8> kTypes = {{
    {"join", MessageType::kJoin},
    {"leave", MessageType::kLeave},
    {"say", MessageType::kSay},
    {"dm", MessageType::kDm},
    {"who", MessageType::kWho},
    {"history", MessageType::kHistory},
    {"rooms", MessageType::kRooms},
    {"ping", MessageType::kPing},
}};

ParseResult fail(ProtocolErrorCode code, Field field = kFieldCount) {
    return {code, field == kFieldCount ? std::string_view{} : kFieldNames[field]};
}

ProtocolErrorCode map_json_error(simdjson::error_code e) {
    switch (e) {
    case simdjson::UTF8_ERROR:
        return ProtocolErrorCode::kInvalidUtf8;
    case simdjson::STRING_ERROR:
        return ProtocolErrorCode::kBadEscape;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
        return ProtocolErrorCode::kBadNumber;
    case simdjson::MEMALLOC:
        return ProtocolErrorCode::kInternal;
    default:
        return ProtocolErrorCode::kBadJson;
    }
}

// Files each known field in its slot; a known field seen twice is an error, since two readers of
// one message (a proxy, a log, us) could otherwise disagree on which value counts. The first
// duplicate is the error, but the walk goes on to the end so that an "id" after it is still
// filed and the error can echo it (the first of two values is kept; it is never read).
ParseResult collect_fields(simdjson::dom::object object, Fields& f) {
    ParseResult first;
    for (const simdjson::dom::key_value_pair& kv : object) {
        for (size_t i = 0; i < kFieldCount; ++i) {
            if (kv.key != kFieldNames[i]) continue;
            if (f.present[i]) {
                if (first.ok()) first = fail(ProtocolErrorCode::kDuplicateField, Field(i));
            } else {
                f.present[i] = true;
                f.value[i] = kv.value;
            }
            break;
        }
    }
    return first;
}

// An integer 0..max written as an integer (no fraction, no exponent: simdjson types 1.0 and 1e2
// as doubles, which is what we refuse).
ParseResult read_uint(const Fields& f, Field field, uint64_t max, uint64_t& out) {
    const simdjson::dom::element& v = f.value[field];
    switch (v.type()) {
    case simdjson::dom::element_type::INT64: {
        int64_t n = 0;
        if (v.get_int64().get(n) || n < 0 || uint64_t(n) > max)
            return fail(ProtocolErrorCode::kNumberOutOfRange, field);
        out = uint64_t(n);
        return {};
    }
    case simdjson::dom::element_type::UINT64: // above INT64_MAX: over every limit we have
        return fail(ProtocolErrorCode::kNumberOutOfRange, field);
    case simdjson::dom::element_type::DOUBLE:
        return fail(ProtocolErrorCode::kNotInteger, field);
    default:
        return fail(ProtocolErrorCode::kWrongType, field);
    }
}

ParseResult read_string(const Fields& f, Field field, std::string_view& out) {
    if (!f.present[field]) return fail(ProtocolErrorCode::kMissingField, field);
    if (f.value[field].get_string().get(out)) return fail(ProtocolErrorCode::kWrongType, field);
    // simdjson validated the document's bytes and escapes; check again what we hand on, as a
    // name check would anyway.
    if (!ws::is_valid_utf8(reinterpret_cast<const std::byte*>(out.data()), out.size())) {
        return fail(ProtocolErrorCode::kInvalidUtf8, field);
    }
    return {};
}

ParseResult read_id(const Fields& f, const ProtocolLimits& limits, RequestId& id) {
    id = {};
    if (!f.present[kId]) return {};
    std::string_view s;
    if (f.value[kId].get_string().get(s) == simdjson::SUCCESS) {
        if (s.size() > limits.max_id_bytes) return fail(ProtocolErrorCode::kBadId, kId);
        id = RequestId::of(s);
        return {};
    }
    uint64_t n = 0;
    ParseResult r = read_uint(f, kId, kMaxSafeInteger, n);
    if (r.ok()) id = RequestId::of(n);
    return r;
}

ParseResult read_room(const Fields& f, const ProtocolLimits& limits, std::string_view& room) {
    ParseResult r = read_string(f, kRoom, room);
    if (r.ok() && !is_valid_room_name(room, limits.max_room_bytes)) {
        return fail(ProtocolErrorCode::kBadRoomName, kRoom);
    }
    return r;
}

ProtocolErrorCode check_text(std::string_view text, const ProtocolLimits& limits) {
    if (text.size() > limits.max_text_bytes) return ProtocolErrorCode::kTextTooLong;
    bool visible = false;
    for (size_t i = 0; i < text.size();) {
        const auto b = static_cast<uint8_t>(text[i]);
        // Tab and newline are how people write; CR, NUL, ESC and friends only confuse terminals
        // and logs.
        if (b < 0x80) { // inline ASCII path: most chat text is ASCII, and this runs per message
            if ((b < 0x20 && b != '\t' && b != '\n') || b == 0x7F) {
                return ProtocolErrorCode::kControlCharacters;
            }
            visible |= b > 0x20;
            ++i;
            continue;
        }
        const char32_t cp = next_code_point(text, i);
        if (is_control(cp)) return ProtocolErrorCode::kControlCharacters;
        if (!is_space(cp) && !is_hidden(cp)) visible = true;  // U+3164 or U+2800 alone is blank
    }
    return visible ? ProtocolErrorCode::kNone : ProtocolErrorCode::kTextEmpty;
}

ParseResult read_text(const Fields& f, const ProtocolLimits& limits, std::string_view& text) {
    ParseResult r = read_string(f, kText, text);
    if (!r.ok()) return r;
    const ProtocolErrorCode e = check_text(text, limits);
    return e == ProtocolErrorCode::kNone ? ParseResult{} : fail(e, kText);
}

ParseResult read_history(const Fields& f, const ProtocolLimits& limits, ClientMessage& m) {
    if (!f.present[kFrom]) return fail(ProtocolErrorCode::kMissingField, kFrom);
    ParseResult r = read_uint(f, kFrom, kMaxSafeInteger, m.from);
    if (r.ok() && f.present[kTo]) {
        uint64_t until = 0;
        r = read_uint(f, kTo, kMaxSafeInteger, until);
        if (r.ok() && until < m.from) return fail(ProtocolErrorCode::kBadRange, kTo);
        m.until = until;
    }
    m.limit = limits.max_history_limit;
    if (r.ok() && f.present[kLimit]) {
        r = read_uint(f, kLimit, limits.max_history_limit, m.limit);
        if (r.ok() && m.limit == 0) return fail(ProtocolErrorCode::kBadRange, kLimit);
    }
    return r;
}

// who: a page of members after `after` (a user name), at most `limit` (default and cap:
// max_presence_names).
ParseResult read_who(const Fields& f, const ProtocolLimits& limits, ClientMessage& m) {
    m.limit = limits.max_presence_names;
    if (f.present[kAfter]) {
        ParseResult r = read_string(f, kAfter, m.after);
        if (!r.ok()) return r;
        if (!is_valid_user_name(m.after, limits.max_user_code_points))
            return fail(ProtocolErrorCode::kBadUserName, kAfter);
    }
    if (f.present[kLimit]) {
        ParseResult r = read_uint(f, kLimit, limits.max_presence_names, m.limit);
        if (r.ok() && m.limit == 0) return fail(ProtocolErrorCode::kBadRange, kLimit);
        return r;
    }
    return {};
}

// The fields of one message type, once the envelope (type, id) is known good.
ParseResult read_body(const Fields& f, const ProtocolLimits& limits, ClientMessage& m) {
    ParseResult r;
    switch (m.type) {
    case MessageType::kJoin:
        r = read_room(f, limits, m.room);
        if (r.ok() && f.present[kSince]) {
            uint64_t since = 0;
            r = read_uint(f, kSince, kMaxSafeInteger, since);
            m.since = since;
        }
        if (r.ok() && f.present[kEpoch]) {
            uint64_t epoch = 0;
            r = read_uint(f, kEpoch, kMaxSafeInteger, epoch);
            m.epoch = epoch;
        }
        return r;
    case MessageType::kLeave:
        return read_room(f, limits, m.room);
    case MessageType::kWho:
        r = read_room(f, limits, m.room);
        return r.ok() ? read_who(f, limits, m) : r;
    case MessageType::kSay:
        r = read_room(f, limits, m.room);
        return r.ok() ? read_text(f, limits, m.text) : r;
    case MessageType::kDm:
        r = read_string(f, kTo, m.to);
        if (r.ok() && !is_valid_user_name(m.to, limits.max_user_code_points)) {
            return fail(ProtocolErrorCode::kBadUserName, kTo);
        }
        return r.ok() ? read_text(f, limits, m.text) : r;
    case MessageType::kHistory:
        r = read_room(f, limits, m.room);
        return r.ok() ? read_history(f, limits, m) : r;
    case MessageType::kRooms:
    case MessageType::kPing:
        return r;
    }
    return r;
}

ParseResult read_message(simdjson::dom::element root, const ProtocolLimits& limits,
                         ClientMessage& m) {
    simdjson::dom::object object;
    if (root.get_object().get(object)) return fail(ProtocolErrorCode::kNotObject);
    Fields f;
    const ParseResult duplicate = collect_fields(object, f);
    // Two ids: neither is echoed, since either could be the one the client meant.
    if (!duplicate.ok() && duplicate.field == kFieldNames[kId]) return duplicate;
    // The id first, so that every later error, a duplicate of another field included, echoes it.
    ParseResult r = read_id(f, limits, m.id);
    if (!duplicate.ok()) return duplicate;
    if (!r.ok()) return r;
    if (!f.present[kType]) return fail(ProtocolErrorCode::kMissingType, kType);
    std::string_view type;
    if (f.value[kType].get_string().get(type)) return fail(ProtocolErrorCode::kWrongType, kType);
    for (const TypeName& t : kTypes) {
        if (t.name == type) {
            m.type = t.type;
            return read_body(f, limits, m);
        }
    }
    return fail(ProtocolErrorCode::kUnknownType, kType);
}

} // namespace

std::string_view error_code_string(ProtocolErrorCode code) {
    return kErrors[static_cast<size_t>(code)].code;
}

std::string_view error_reason(ProtocolErrorCode code) {
    return kErrors[static_cast<size_t>(code)].reason;
}

struct ProtocolParser::Impl {
    simdjson::dom::parser json;
    // The frame copied with SIMDJSON_PADDING readable bytes after it, which simdjson's SIMD
    // loads need; the WebSocket layer's message buffer does not promise them.
    std::string padded;
};

ProtocolParser::ProtocolParser(const ProtocolLimits& limits)
    : limits_(limits), impl_(std::make_unique<Impl>()) {
    impl_->padded.resize(limits_.max_frame_bytes + simdjson::SIMDJSON_PADDING);
    // Sizing the parser up front only saves the first parse an allocation: if it fails here, that
    // parse tries again and reports MEMALLOC as kInternal.
    [[maybe_unused]] const simdjson::error_code sized =
        impl_->json.allocate(limits_.max_frame_bytes, limits_.max_json_depth);
}

ProtocolParser::~ProtocolParser() = default;

ParseResult ProtocolParser::parse(std::string_view frame, ClientMessage& out) {
    out = ClientMessage{};
    if (frame.size() > limits_.max_frame_bytes) return fail(ProtocolErrorCode::kTooLarge);
    if (!frame.empty()) std::memcpy(impl_->padded.data(), frame.data(), frame.size());
    try {
        simdjson::dom::element root;
        const simdjson::error_code e =
            impl_->json.parse(impl_->padded.data(), frame.size(), false).get(root);
        if (e) return fail(map_json_error(e));
        return read_message(root, limits_, out);
    } catch (...) {
        // The error-code API does not throw; this only catches what allocation might, so that
        // nothing escapes into the event loop.
        return fail(ProtocolErrorCode::kInternal);
    }
}

} // namespace epws::chat
