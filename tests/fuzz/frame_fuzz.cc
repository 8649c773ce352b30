// tests/fuzz/frame_fuzz.cc: libFuzzer target for the frame stream (ws/message_reader, ws/frame),
// server and client side, with fragmentation and UTF-8 state carried across reads. Layer: tests/.
//
// Input: [seed lo][seed hi][flags][limit] then the frame stream. flags bit 0: client role; bit 1:
// RSV1 allowed (permessage-deflate agreed); bits 2-4: max_fragments. limit: max_message_bytes.
// The stream is read whole, in random chunks and byte by byte, feeding the reader the way
// net/connection.cc deliver() and ws/server_connection.cc on_frames() do (unconsumed bytes are
// offered again in front of the next read; reading stops at an error or after a close frame).
#include <cstring>
#include <vector>

#include "tests/fuzz/fuzz_common.h"
#include "ws/error.h"
#include "ws/frame.h"
#include "ws/message_reader.h"
#include "ws/utf8.h"

using namespace epws::ws;
using epws::fuzz::ExactBuffer;

namespace {

struct Event {
    bool control;
    Opcode op;
    bool compressed;
    std::vector<std::byte> payload;
    bool operator==(const Event&) const = default;
};

// The errors MessageReader may report; the others belong to the glue (output, timers, zlib).
bool is_reader_error(ProtocolError e) {
    switch (e) {
    case ProtocolError::kReservedBits:
    case ProtocolError::kReservedOpcode:
    case ProtocolError::kUnmaskedClientFrame:
    case ProtocolError::kMaskedServerFrame:
    case ProtocolError::kControlTooLong:
    case ProtocolError::kControlFragmented:
    case ProtocolError::kBadLength:
    case ProtocolError::kUnexpectedContinuation:
    case ProtocolError::kExpectedContinuation:
    case ProtocolError::kBadCloseLength:
    case ProtocolError::kBadCloseCode:
    case ProtocolError::kBadCloseReason:
    case ProtocolError::kInvalidUtf8:
    case ProtocolError::kMessageTooBig:
    case ProtocolError::kTooManyFragments:
        return true;
    default:
        return false;
    }
}

struct Config {
    Role role;
    bool rsv1;
    ReaderLimits limits;
};

// The connection's sink: checks every delivery against the reader's promises and records it.
class Recorder : public MessageSink {
public:
    explicit Recorder(const Config& c) : c_(c) {}
    bool on_message(Opcode op, std::span<std::byte> payload, bool compressed) override {
        FUZZ_CHECK(op == Opcode::kText || op == Opcode::kBinary);
        FUZZ_CHECK(payload.size() <= c_.limits.max_message_bytes);
        FUZZ_CHECK(!compressed || c_.rsv1);
        // RFC 6455 §8.1: every uncompressed text message delivered is valid UTF-8.
        if (op == Opcode::kText && !compressed)
            FUZZ_CHECK(is_valid_utf8(payload.data(), payload.size()));
        events.push_back({false, op, compressed, {payload.begin(), payload.end()}});
        return true;
    }
    bool on_control(Opcode op, std::span<std::byte> payload) override {
        FUZZ_CHECK(op == Opcode::kPing || op == Opcode::kPong || op == Opcode::kClose);
        FUZZ_CHECK(payload.size() <= kMaxControlPayload);
        if (op == Opcode::kClose) {
            FUZZ_CHECK(validate_close_payload(payload.data(), payload.size()) == ProtocolError::kNone);
            closed = true;
        }
        events.push_back({true, op, false, {payload.begin(), payload.end()}});
        return op != Opcode::kClose;  // the glue stops reading after a close (RFC 6455 §5.5.1)
    }
    std::vector<Event> events;
    bool closed = false;

private:
    const Config& c_;
};

struct Outcome {
    std::vector<Event> events;
    ProtocolError error = ProtocolError::kNone;
    bool closed = false;
    size_t leftover = 0;
};

Outcome run(const Config& c, std::span<const uint8_t> stream, const std::vector<size_t>& chunks) {
    MessageReader reader(c.role, &c.limits);
    reader.set_rsv1_allowed(c.rsv1);
    Recorder sink(c);
    std::vector<std::byte> in;  // the connection's in_: what the reader left unconsumed
    size_t off = 0;
    Outcome o;
    for (size_t chunk : chunks) {
        ExactBuffer buf(in.size() + chunk);
        if (!in.empty()) std::memcpy(buf.data(), in.data(), in.size());
        std::memcpy(buf.data() + in.size(), stream.data() + off, chunk);
        off += chunk;
        ReadResult r = reader.read(buf.span(), sink);
        if (r.error != ProtocolError::kNone) {
            FUZZ_CHECK(is_reader_error(r.error));
            o.error = r.error;
            break;
        }
        FUZZ_CHECK(r.consumed <= buf.size);
        if (sink.closed) break;  // ServerConnection: state kDone, the rest is discarded
        const size_t rest = buf.size - r.consumed;
        // Only a partial header (< 14 bytes) or a partial control frame (< 6 + 125) is left
        // over, so the connection's in_ stays small whatever the peer sends.
        FUZZ_CHECK(rest < 6 + kMaxControlPayload);
        FUZZ_CHECK(reader.buffered_bytes() <= c.limits.max_message_bytes);
        FUZZ_CHECK(reader.buffered_capacity() >= reader.buffered_bytes());
        in.assign(buf.data() + r.consumed, buf.data() + buf.size);
    }
    o.events = std::move(sink.events);
    o.closed = sink.closed;
    o.leftover = in.size();
    if (o.error == ProtocolError::kNone && !o.closed) FUZZ_CHECK(off == stream.size());
    return o;
}

// Encodes one event as the peer would send it: masked from a client, plain from a server.
void append_frame(std::vector<std::byte>& out, const Config& c, Opcode op,
                  std::span<const std::byte> payload, bool fin, bool rsv1, uint32_t key) {
    std::byte mask[4];
    std::memcpy(mask, &key, 4);
    const bool masked = c.role == Role::kServer;
    std::byte header[kMaxFrameHeader];
    size_t h = encode_frame_header(header, op, payload.size(), fin, rsv1, masked ? mask : nullptr);
    FUZZ_CHECK(h == header_size_for(payload.size(), masked));
    FUZZ_CHECK(h == header_size_from(header[1]));
    // decode(encode(x)) == x for every header field.
    FrameHeader d;
    FUZZ_CHECK(decode_frame_header(header, &d) == ProtocolError::kNone);
    FUZZ_CHECK(d.opcode == op && d.payload_len == payload.size() && d.fin == fin &&
               d.rsv1 == rsv1 && !d.rsv2 && !d.rsv3 && d.masked == masked && d.size == h);
    if (masked) FUZZ_CHECK(std::memcmp(d.mask, mask, 4) == 0);
    out.insert(out.end(), header, header + h);
    size_t start = out.size();
    out.insert(out.end(), payload.begin(), payload.end());
    if (masked) apply_mask(out.data() + start, payload.size(), mask);
}

// Every accepted event, re-encoded (once as one frame, once fragmented around a ping), reads back
// as the same event.
void check_reencode(const Config& c, const std::vector<Event>& events, uint64_t seed) {
    epws::fuzz::Rng rng(seed);
    std::vector<std::byte> wire;
    std::vector<Event> expect;
    const Event ping{true, Opcode::kPing, false, {std::byte{'p'}}};
    for (const Event& e : events) {
        const auto key = static_cast<uint32_t>(rng.next());
        if (e.control) {
            append_frame(wire, c, e.op, e.payload, true, false, key);
            expect.push_back(e);
            continue;
        }
        append_frame(wire, c, e.op, e.payload, true, e.compressed, key);
        expect.push_back(e);
        if (c.limits.max_fragments >= 2) {
            size_t cut = e.payload.empty() ? 0 : rng.between(0, e.payload.size());
            std::span<const std::byte> p(e.payload);
            append_frame(wire, c, e.op, p.first(cut), false, e.compressed, key);
            append_frame(wire, c, Opcode::kPing, ping.payload, true, false, key ^ 1u);
            append_frame(wire, c, Opcode::kContinuation, p.subspan(cut), true, false, key ^ 2u);
            expect.push_back(ping);
            expect.push_back(e);
        }
    }
    const std::vector<uint8_t> bytes(reinterpret_cast<const uint8_t*>(wire.data()),
                                     reinterpret_cast<const uint8_t*>(wire.data()) + wire.size());
    Outcome back = run(c, bytes, epws::fuzz::random_chunks(bytes.size(), seed));
    FUZZ_CHECK(back.error == ProtocolError::kNone);
    if (!back.closed) FUZZ_CHECK(back.leftover == 0);
    FUZZ_CHECK(back.events == expect);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    epws::fuzz::Input in(data, size);
    const uint16_t seed = in.u16();
    const uint8_t flags = in.byte();
    const uint8_t limit = in.byte();
    Config c;
    c.role = (flags & 1) ? Role::kClient : Role::kServer;
    c.rsv1 = (flags & 2) != 0;
    c.limits.max_fragments = 1u + ((flags >> 2) & 7u) * 3u;  // 1..22: reachable by a fuzzer
    c.limits.max_message_bytes = limit == 255 ? (16u << 20) : limit * 4u;
    const auto stream = in.rest();

    const Outcome whole = run(c, stream, epws::fuzz::whole(stream.size()));
    const Outcome chunked = run(c, stream, epws::fuzz::random_chunks(stream.size(), seed));
    const Outcome bytewise = run(c, stream, epws::fuzz::byte_by_byte(stream.size()));
    // How the stream was split must not change what was read, nor the first error.
    for (const Outcome* o : {&chunked, &bytewise}) {
        FUZZ_CHECK(o->error == whole.error);
        FUZZ_CHECK(o->closed == whole.closed);
        FUZZ_CHECK(o->events == whole.events);
        if (whole.error == ProtocolError::kNone && !whole.closed)
            FUZZ_CHECK(o->leftover == whole.leftover);
    }
    if (whole.error != ProtocolError::kNone) {
        const auto code = static_cast<uint16_t>(close_code(whole.error));
        FUZZ_CHECK(code == 1002 || code == 1007 || code == 1009);
        FUZZ_CHECK(!close_reason(whole.error).empty() && close_reason(whole.error).size() <= 123);
    }
    check_reencode(c, whole.events, seed);
    return 0;
}
