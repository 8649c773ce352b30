// tests/fuzz/chat_protocol_fuzz.cc: libFuzzer target for the chat protocol codec
// (chat/protocol ProtocolParser::parse and the JSON encoders). Layer: tests/.
//
// Input: [seed lo][seed hi][limits] then one client frame. The frame reaches the parser the way
// it does in the server: as a text message sent in random fragments, assembled and UTF-8-checked
// by ws::MessageReader. It is also parsed directly, and parsed again by a parser that has seen
// another frame in between (buffer reuse): all three results must agree. Whatever is accepted
// must satisfy the documented limits, and strings written back with the encoders must parse
// back to the same strings.
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "chat/names.h"
#include "chat/protocol.h"
#include "tests/fuzz/fuzz_common.h"
#include "ws/frame.h"
#include "ws/message_reader.h"
#include "ws/utf8.h"

using namespace epws;
using chat::ClientMessage;
using chat::MessageType;
using chat::ProtocolErrorCode;

namespace {

bool utf8(std::string_view s) {
    return ws::is_valid_utf8(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

// A parse result copied out of the parser, to compare runs.
std::string describe(const chat::ParseResult& r, const ClientMessage& m) {
    std::string s = std::to_string(static_cast<int>(r.error)) + "|" + std::string(r.field) + "|" +
                    std::to_string(static_cast<int>(m.id.kind)) + "|" + std::string(m.id.text) +
                    "|" + std::to_string(m.id.number);
    if (!r.ok()) return s;
    s += "|" + std::to_string(static_cast<int>(m.type)) + "|" + std::string(m.room) + "|" +
         std::string(m.text) + "|" + std::string(m.to) + "|" +
         (m.since ? std::to_string(*m.since) : "-") + "|" + std::to_string(m.from) + "|" +
         (m.until ? std::to_string(*m.until) : "-") + "|" + std::to_string(m.limit);
    return s;
}

// Parses the one text message of the stream straight from the reader's payload, as
// chat/endpoints/chat_endpoint.cc ChatEndpoint::on_message does (fuzz finding 1 in docs/security.md: an empty message
// once arrived as {nullptr, 0}).
struct OneMessage : ws::MessageSink {
    explicit OneMessage(chat::ProtocolParser& p) : parser(p) {}
    bool on_message(ws::Opcode op, std::span<std::byte> payload, bool) override {
        FUZZ_CHECK(op == ws::Opcode::kText && !got);
        std::string_view view(reinterpret_cast<const char*>(payload.data()), payload.size());
        ClientMessage m;
        result = describe(parser.parse(view, m), m);
        text.assign(view);
        got = true;
        return true;
    }
    bool on_control(ws::Opcode, std::span<std::byte>) override { return true; }
    chat::ProtocolParser& parser;
    std::string text, result;
    bool got = false;
};

// The frame as a client would send it: a masked text message in random fragments, read in
// random chunks. Returns false when the WebSocket layer refuses it (not UTF-8).
bool through_websocket(std::string_view frame, uint64_t seed, chat::ProtocolParser& parser,
                       std::string& out, std::string& result) {
    fuzz::Rng rng(seed);
    std::vector<std::byte> wire;
    size_t off = 0;
    const size_t pieces = rng.between(1, 4);
    for (size_t i = 0; i < pieces; ++i) {
        const size_t n = i + 1 == pieces ? frame.size() - off : rng.between(0, frame.size() - off);
        std::byte mask[4];
        const auto key = rng.next();
        std::memcpy(mask, &key, 4);
        std::byte header[ws::kMaxFrameHeader];
        const size_t h = ws::encode_frame_header(
            header, i == 0 ? ws::Opcode::kText : ws::Opcode::kContinuation, n, i + 1 == pieces,
            false, mask);
        wire.insert(wire.end(), header, header + h);
        const size_t start = wire.size();
        const auto* p = reinterpret_cast<const std::byte*>(frame.data()) + off;
        wire.insert(wire.end(), p, p + n);
        ws::apply_mask(wire.data() + start, n, mask);
        off += n;
    }
    const ws::ReaderLimits limits;
    ws::MessageReader reader(ws::Role::kServer, &limits);
    OneMessage sink(parser);
    std::vector<std::byte> in;
    off = 0;
    for (size_t chunk : fuzz::random_chunks(wire.size(), seed + 1)) {
        std::vector<std::byte> buf(in);
        buf.insert(buf.end(), wire.begin() + static_cast<ptrdiff_t>(off),
                   wire.begin() + static_cast<ptrdiff_t>(off + chunk));
        off += chunk;
        ws::ReadResult r = reader.read(buf, sink);
        if (r.error != ws::ProtocolError::kNone) {
            FUZZ_CHECK(r.error == ws::ProtocolError::kInvalidUtf8);
            return false;
        }
        in.assign(buf.begin() + static_cast<ptrdiff_t>(r.consumed), buf.end());
    }
    FUZZ_CHECK(sink.got && in.empty());
    out = std::move(sink.text);
    result = std::move(sink.result);
    return true;
}

void check_accepted(const ClientMessage& m, const chat::ProtocolLimits& limits) {
    if (m.id.kind == chat::RequestId::Kind::kString)
        FUZZ_CHECK(m.id.text.size() <= limits.max_id_bytes && utf8(m.id.text));
    if (m.id.kind == chat::RequestId::Kind::kNumber) FUZZ_CHECK(m.id.number <= chat::kMaxSafeInteger);
    switch (m.type) {
    case MessageType::kJoin:
    case MessageType::kLeave:
    case MessageType::kSay:
    case MessageType::kWho:
    case MessageType::kHistory:
        FUZZ_CHECK(m.room.size() <= limits.max_room_bytes && utf8(m.room));
        FUZZ_CHECK(chat::is_valid_room_name(m.room, limits.max_room_bytes));
        break;
    case MessageType::kDm:
        FUZZ_CHECK(chat::is_valid_user_name(m.to, limits.max_user_code_points) && utf8(m.to));
        break;
    default:
        break;
    }
    if (m.type == MessageType::kSay || m.type == MessageType::kDm) {
        FUZZ_CHECK(!m.text.empty() && m.text.size() <= limits.max_text_bytes && utf8(m.text));
        for (size_t i = 0; i < m.text.size();) {
            const char32_t cp = chat::next_code_point(m.text, i);
            FUZZ_CHECK(!chat::is_control(cp) || cp == U'\t' || cp == U'\n');
        }
    }
    if (m.since) FUZZ_CHECK(*m.since <= chat::kMaxSafeInteger);
    if (m.type == MessageType::kHistory) {
        FUZZ_CHECK(m.from <= chat::kMaxSafeInteger);
        FUZZ_CHECK(m.limit >= 1 && m.limit <= limits.max_history_limit);
        if (m.until) FUZZ_CHECK(*m.until >= m.from && *m.until <= chat::kMaxSafeInteger);
    }
}

// What the encoders write is JSON that the parser reads back (a big parser: escaping grows text).
bool is_json(chat::ProtocolParser& big, const std::string& s) {
    ClientMessage m;
    const ProtocolErrorCode e = big.parse(s, m).error;
    return e != ProtocolErrorCode::kBadJson && e != ProtocolErrorCode::kBadEscape &&
           e != ProtocolErrorCode::kBadNumber && e != ProtocolErrorCode::kInvalidUtf8 &&
           e != ProtocolErrorCode::kNotObject && e != ProtocolErrorCode::kTooLarge;
}

void check_round_trip(const ClientMessage& m, const chat::ProtocolLimits& limits) {
    if (m.type != MessageType::kSay && m.type != MessageType::kDm) return;
    chat::ProtocolLimits big_limits = limits;
    big_limits.max_frame_bytes = 1 << 20;
    chat::ProtocolParser big(big_limits);
    std::string json = m.type == MessageType::kSay ? R"({"type":"say","room":)" : R"({"type":"dm","to":)";
    chat::append_json_string(json, m.type == MessageType::kSay ? m.room : m.to);
    json += R"(,"text":)";
    chat::append_json_string(json, m.text);
    json += "}";
    ClientMessage back;
    FUZZ_CHECK(big.parse(json, back).ok());
    FUZZ_CHECK(back.type == m.type && back.room == m.room && back.to == m.to && back.text == m.text);
    std::string ev;
    chat::encode_message(ev, m.room.empty() ? "lobby" : m.room, 7, "alice", m.text, 1);
    FUZZ_CHECK(is_json(big, ev));
    ev.clear();
    chat::encode_error(ev, ProtocolErrorCode::kBadJson, m.id, "text");
    FUZZ_CHECK(is_json(big, ev));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::Input in(data, size);
    const uint16_t seed = in.u16();
    const uint8_t l = in.byte();
    chat::ProtocolLimits limits;
    if (l & 1) {  // small limits, so that a fuzzer reaches every limit check
        limits.max_frame_bytes = 256;
        limits.max_text_bytes = 16;
        limits.max_id_bytes = 4;
        limits.max_history_limit = 5;
        limits.max_json_depth = 3;
    }
    const auto rest = in.rest();
    const std::string copy(reinterpret_cast<const char*>(rest.data()), rest.size());
    const std::string_view frame(copy);

    chat::ProtocolParser parser(limits);
    ClientMessage m;
    const chat::ParseResult direct = parser.parse(frame, m);
    const std::string want = describe(direct, m);
    if (direct.ok()) {
        check_accepted(m, limits);
        check_round_trip(m, limits);
    }
    std::string assembled, via_ws;
    chat::ProtocolParser ws_parser(limits);
    if (!through_websocket(frame, seed, ws_parser, assembled, via_ws)) {
        // The WebSocket layer refuses non-UTF-8 text; the parser must never accept it either.
        FUZZ_CHECK(!utf8(frame) && !direct.ok());
        return 0;
    }
    FUZZ_CHECK(assembled == frame);
    FUZZ_CHECK(via_ws == want);
    // A parser that parsed something else first gives the same answer (its buffers are reused).
    ClientMessage other;
    parser.parse(R"({"type":"ping","id":"a-long-request-id-to-grow-buffers"})", other);
    ClientMessage again;
    FUZZ_CHECK(describe(parser.parse(assembled, again), again) == want);
    return 0;
}
