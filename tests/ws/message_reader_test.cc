// tests/ws/message_reader_test.cc: unit tests for ws/message_reader.cc, the streaming frame reader.
// Layer: tests/. Every stream is fed whole, byte by byte and split at every offset, through a
// helper that re-offers unconsumed bytes the way the connection glue does, with identical results.
#include "ws/message_reader.h"

#include <doctest/doctest.h>

#include <cstring>
#include <initializer_list>
#include <ostream>
#include <random>
#include <string_view>
#include <vector>

namespace epws::ws {
// doctest prints values through operator<<; found by argument-dependent lookup.
static std::ostream& operator<<(std::ostream& os, ProtocolError e) {
    return os << static_cast<int>(e) << " (" << close_reason(e) << ")";
}
}  // namespace epws::ws

namespace {

using epws::ws::MessageReader;
using epws::ws::Opcode;
using epws::ws::ProtocolError;
using epws::ws::ReaderLimits;
using epws::ws::Role;
using Bytes = std::vector<std::byte>;

Bytes bytes(std::initializer_list<int> v) {
    Bytes out;
    for (int x : v) out.push_back(static_cast<std::byte>(x));
    return out;
}

Bytes text(std::string_view s) {
    Bytes out(s.size());
    if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
    return out;
}

Bytes filled(size_t n) {
    Bytes out(n);
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>(i * 7 + 3);
    return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

const Bytes kKey = bytes({0x37, 0xfa, 0x21, 0x3d});

// A frame as a client sends it (masked, for a kServer reader).
Bytes client_frame(Opcode op, Bytes payload, bool fin = true, bool rsv1 = false) {
    Bytes out(epws::ws::kMaxFrameHeader);
    out.resize(epws::ws::encode_frame_header(out.data(), op, payload.size(), fin, rsv1, kKey.data()));
    epws::ws::apply_mask(payload.data(), payload.size(), kKey.data());
    return cat({out, payload});
}

// A frame as a server sends it (unmasked, for a kClient reader).
Bytes server_frame(Opcode op, const Bytes& payload, bool fin = true, bool rsv1 = false) {
    Bytes out(epws::ws::kMaxFrameHeader);
    out.resize(epws::ws::encode_frame_header(out.data(), op, payload.size(), fin, rsv1));
    return cat({out, payload});
}

Bytes close_payload(uint16_t code, std::string_view reason = {}) {
    Bytes out(epws::ws::kMaxControlPayload);
    out.resize(epws::ws::encode_close_payload(out.data(), code, reason));
    return out;
}

struct Event {
    bool control = false;
    Opcode op = Opcode::kContinuation;
    bool compressed = false;
    Bytes payload;
    bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
    os << (e.control ? "control " : "message ") << static_cast<int>(e.op)
       << (e.compressed ? " compressed" : "") << " [" << e.payload.size() << " bytes]";
    return os;
}

struct Recorder : epws::ws::MessageSink {
    std::vector<Event> events;
    bool on_message(Opcode op, std::span<std::byte> payload, bool compressed) override {
        events.push_back({false, op, compressed, Bytes(payload.begin(), payload.end())});
        return true;
    }
    bool on_control(Opcode op, std::span<std::byte> payload) override {
        events.push_back({true, op, false, Bytes(payload.begin(), payload.end())});
        return true;
    }
};

Event msg(Opcode op, Bytes payload, bool compressed = false) {
    return {false, op, compressed, std::move(payload)};
}
Event ctl(Opcode op, Bytes payload) { return {true, op, false, std::move(payload)}; }

struct Setup {
    Role role = Role::kServer;
    ReaderLimits limits;
    bool rsv1 = false;
};

struct Outcome {
    std::vector<Event> events;
    ProtocolError error = ProtocolError::kNone;
    size_t leftover = 0;  // bytes the glue still holds at the end (a partial header or control)
    size_t buffered = 0;  // reader.buffered_bytes() at the end
    bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    os << "{error " << o.error << ", leftover " << o.leftover << ", buffered " << o.buffered
       << ", events:";
    for (const Event& e : o.events) os << " " << e << ";";
    return os << "}";
}

// Plays the glue: appends each chunk to what is pending, reads, drops what was consumed.
Outcome feed(const Setup& setup, const Bytes& stream, const std::vector<size_t>& cuts) {
    MessageReader reader(setup.role, &setup.limits);
    reader.set_rsv1_allowed(setup.rsv1);
    Recorder sink;
    Outcome out;
    Bytes pending;
    size_t start = 0;
    for (size_t i = 0; i <= cuts.size(); ++i) {
        const size_t end = i < cuts.size() ? cuts[i] : stream.size();
        pending.insert(pending.end(), stream.begin() + static_cast<long>(start),
                       stream.begin() + static_cast<long>(end));
        start = end;
        const epws::ws::ReadResult r = reader.read(pending, sink);
        if (r.error != ProtocolError::kNone) {
            out.error = r.error;
            break;
        }
        REQUIRE(r.consumed <= pending.size());
        pending.erase(pending.begin(), pending.begin() + static_cast<long>(r.consumed));
        // The promise the glue relies on: at most a partial header or a partial control frame.
        REQUIRE(pending.size() < epws::ws::kMaxFrameHeader + epws::ws::kMaxControlPayload);
    }
    out.events = std::move(sink.events);
    out.leftover = out.error == ProtocolError::kNone ? pending.size() : 0;
    out.buffered = out.error == ProtocolError::kNone ? reader.buffered_bytes() : 0;
    return out;
}

// Whole, byte by byte, and split in two at every offset (for long streams: every offset near
// either end plus a stride through the middle), then a few random multi-way splits.
void expect_all_ways(const Setup& setup, const Bytes& stream, const Outcome& want) {
    const size_t n = stream.size();
    CHECK(feed(setup, stream, {}) == want);
    {
        std::vector<size_t> each;
        for (size_t i = 1; i < n; ++i) each.push_back(i);
        INFO("byte by byte");
        CHECK(feed(setup, stream, each) == want);
    }
    const size_t stride = n <= 4096 ? 1 : 977;
    for (size_t cut = 0; cut <= n; ++cut) {
        if (cut > 300 && cut + 300 < n && cut % stride != 0) continue;
        INFO("split at " << cut);
        const Outcome got = feed(setup, stream, {cut});
        CHECK(got == want);
        if (got != want) break;  // one failing offset says enough
    }
    std::mt19937 rng(12345);
    for (int round = 0; round < 20 && n > 1; ++round) {
        std::vector<size_t> cuts;
        for (size_t at = 0;;) {
            at += 1 + rng() % (n / 4 + 1);
            if (at >= n) break;
            cuts.push_back(at);
        }
        INFO("random round " << round);
        CHECK(feed(setup, stream, cuts) == want);
    }
}

Outcome events(std::vector<Event> e) { return {std::move(e), ProtocolError::kNone, 0, 0}; }
Outcome failed(ProtocolError error, std::vector<Event> e = {}) {
    return {std::move(e), error, 0, 0};
}

Setup server() { return {}; }
Setup client() {
    Setup s;
    s.role = Role::kClient;
    return s;
}

}  // namespace

TEST_SUITE("ws/message_reader") {

TEST_CASE("the RFC 6455 section 5.7 examples decode, in both roles") {
    const Bytes hello = text("Hello");
    SUBCASE("a single-frame unmasked text message, read by a client") {
        expect_all_ways(client(), bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}),
                        events({msg(Opcode::kText, hello)}));
    }
    SUBCASE("a single-frame masked text message, read by a server") {
        expect_all_ways(server(),
                        bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
                        events({msg(Opcode::kText, hello)}));
    }
    SUBCASE("a fragmented unmasked text message, read by a client") {
        expect_all_ways(client(), bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}),
                        events({msg(Opcode::kText, hello)}));
    }
    SUBCASE("an unmasked ping, read by a client") {
        expect_all_ways(client(), bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}),
                        events({ctl(Opcode::kPing, hello)}));
    }
    SUBCASE("a masked pong, read by a server") {
        expect_all_ways(server(),
                        bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
                        events({ctl(Opcode::kPong, hello)}));
    }
    SUBCASE("256 bytes of binary in one unmasked frame, read by a client") {
        const Bytes payload = filled(256);
        expect_all_ways(client(), cat({bytes({0x82, 0x7E, 0x01, 0x00}), payload}),
                        events({msg(Opcode::kBinary, payload)}));
    }
    SUBCASE("64 KiB of binary in one unmasked frame, read by a client") {
        const Bytes payload = filled(65536);
        expect_all_ways(
            client(),
            cat({bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}), payload}),
            events({msg(Opcode::kBinary, payload)}));
    }
}

TEST_CASE("payload lengths at the 7, 16 and 64-bit boundaries arrive intact in both roles") {
    for (const size_t len : {size_t{0}, size_t{125}, size_t{126}, size_t{65535}, size_t{65536}}) {
        CAPTURE(len);
        const Bytes payload = filled(len);
        expect_all_ways(server(), client_frame(Opcode::kBinary, payload),
                        events({msg(Opcode::kBinary, payload)}));
        expect_all_ways(client(), server_frame(Opcode::kBinary, payload),
                        events({msg(Opcode::kBinary, payload)}));
    }
}

TEST_CASE("several messages and control frames in one stream are delivered in order") {
    const Bytes stream = cat({client_frame(Opcode::kText, text("one")),
                              client_frame(Opcode::kPing, text("p")),
                              client_frame(Opcode::kBinary, filled(300)),
                              client_frame(Opcode::kText, text("")),
                              client_frame(Opcode::kClose, close_payload(1000, "done"))});
    expect_all_ways(server(), stream,
                    events({msg(Opcode::kText, text("one")), ctl(Opcode::kPing, text("p")),
                            msg(Opcode::kBinary, filled(300)), msg(Opcode::kText, {}),
                            ctl(Opcode::kClose, close_payload(1000, "done"))}));
}

TEST_CASE("control frames may interleave with the fragments of a message") {
    const Bytes stream = cat({client_frame(Opcode::kText, text("Hel"), false),
                              client_frame(Opcode::kPing, text("ping")),
                              client_frame(Opcode::kContinuation, text("l"), false),
                              client_frame(Opcode::kPong, {}),
                              client_frame(Opcode::kPing, {}),
                              client_frame(Opcode::kContinuation, text("o"), true),
                              client_frame(Opcode::kClose, close_payload(1001))});
    expect_all_ways(server(), stream,
                    events({ctl(Opcode::kPing, text("ping")), ctl(Opcode::kPong, {}),
                            ctl(Opcode::kPing, {}), msg(Opcode::kText, text("Hello")),
                            ctl(Opcode::kClose, close_payload(1001))}));
}

TEST_CASE("zero-length messages, fragments and control frames work") {
    const Bytes stream = cat({client_frame(Opcode::kText, {}), client_frame(Opcode::kBinary, {}),
                              client_frame(Opcode::kBinary, {}, false),
                              client_frame(Opcode::kContinuation, {}, false),
                              client_frame(Opcode::kContinuation, text("x"), false),
                              client_frame(Opcode::kContinuation, {}, true),
                              client_frame(Opcode::kText, {}, false),
                              client_frame(Opcode::kContinuation, {}, true),
                              client_frame(Opcode::kPing, {}), client_frame(Opcode::kClose, {})});
    expect_all_ways(server(), stream,
                    events({msg(Opcode::kText, {}), msg(Opcode::kBinary, {}),
                            msg(Opcode::kBinary, text("x")), msg(Opcode::kText, {}),
                            ctl(Opcode::kPing, {}), ctl(Opcode::kClose, {})}));
}

TEST_CASE("a stream that stops mid-frame leaves only a partial header or control frame behind") {
    Outcome want;
    SUBCASE("mid header: the partial header stays with the caller") {
        const Bytes frame = client_frame(Opcode::kBinary, filled(70000));
        expect_all_ways(server(), Bytes(frame.begin(), frame.begin() + 7), {{}, {}, 7, 0});
    }
    SUBCASE("mid data payload: everything is consumed and buffered") {
        const Bytes frame = client_frame(Opcode::kBinary, filled(1000));
        expect_all_ways(server(), Bytes(frame.begin(), frame.begin() + 508), {{}, {}, 0, 500});
    }
    SUBCASE("mid control payload: the partial control frame stays with the caller") {
        const Bytes frame = client_frame(Opcode::kPing, filled(125));
        expect_all_ways(server(), Bytes(frame.begin(), frame.begin() + 100), {{}, {}, 100, 0});
    }
}

TEST_CASE("reserved bits without an extension fail the connection") {
    Bytes rsv1 = client_frame(Opcode::kText, text("a"));
    rsv1[0] |= std::byte{0x40};
    Bytes rsv2 = client_frame(Opcode::kText, text("a"));
    rsv2[0] |= std::byte{0x20};
    Bytes rsv3 = client_frame(Opcode::kBinary, text("a"));
    rsv3[0] |= std::byte{0x10};
    Bytes ping_rsv3 = client_frame(Opcode::kPing, {});
    ping_rsv3[0] |= std::byte{0x10};
    for (const Bytes& f : {rsv1, rsv2, rsv3, ping_rsv3}) {
        expect_all_ways(server(), f, failed(ProtocolError::kReservedBits));
    }
}

TEST_CASE("with permessage-deflate, RSV1 marks a compressed message and is refused elsewhere") {
    Setup deflate = server();
    deflate.rsv1 = true;
    const Bytes not_utf8 = bytes({0xFF, 0xFE, 0x00});  // compressed text is checked after inflating
    SUBCASE("RSV1 on a single frame and on the first of several frames") {
        const Bytes stream = cat({client_frame(Opcode::kText, not_utf8, true, true),
                                  client_frame(Opcode::kBinary, text("ab"), false, true),
                                  client_frame(Opcode::kPing, {}),
                                  client_frame(Opcode::kContinuation, not_utf8, true),
                                  client_frame(Opcode::kText, text("plain"))});
        expect_all_ways(deflate, stream,
                        events({msg(Opcode::kText, not_utf8, true), ctl(Opcode::kPing, {}),
                                msg(Opcode::kBinary, cat({text("ab"), not_utf8}), true),
                                msg(Opcode::kText, text("plain"))}));
    }
    SUBCASE("RSV1 on a continuation frame (RFC 7692 section 6.1)") {
        const Bytes stream = cat({client_frame(Opcode::kText, text("a"), false, true),
                                  client_frame(Opcode::kContinuation, text("b"), true, true)});
        expect_all_ways(deflate, stream, failed(ProtocolError::kReservedBits));
    }
    SUBCASE("RSV1 on a control frame") {
        expect_all_ways(deflate, client_frame(Opcode::kPing, {}, true, true),
                        failed(ProtocolError::kReservedBits));
    }
    SUBCASE("uncompressed text is still checked") {
        expect_all_ways(deflate, client_frame(Opcode::kText, not_utf8),
                        failed(ProtocolError::kInvalidUtf8));
    }
}

TEST_CASE("every reserved opcode fails the connection") {
    for (const int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        CAPTURE(op);
        expect_all_ways(server(), client_frame(static_cast<Opcode>(op), text("x")),
                        failed(ProtocolError::kReservedOpcode));
    }
}

TEST_CASE("a server refuses unmasked frames and a client refuses masked ones") {
    expect_all_ways(server(), server_frame(Opcode::kText, text("hi")),
                    failed(ProtocolError::kUnmaskedClientFrame));
    expect_all_ways(server(), server_frame(Opcode::kPing, {}),
                    failed(ProtocolError::kUnmaskedClientFrame));
    expect_all_ways(client(), client_frame(Opcode::kText, text("hi")),
                    failed(ProtocolError::kMaskedServerFrame));
}

TEST_CASE("control frames over 125 bytes or without FIN fail the connection") {
    expect_all_ways(server(), client_frame(Opcode::kPing, filled(126)),
                    failed(ProtocolError::kControlTooLong));
    expect_all_ways(server(), client_frame(Opcode::kClose, filled(70000)),
                    failed(ProtocolError::kControlTooLong));
    // Decided from the first two bytes, before the extended length arrives.
    expect_all_ways(server(), bytes({0x89, 0xFE}), failed(ProtocolError::kControlTooLong));
    expect_all_ways(server(), client_frame(Opcode::kPing, text("p"), false),
                    failed(ProtocolError::kControlFragmented));
    expect_all_ways(server(), cat({client_frame(Opcode::kText, text("a"), false),
                                   client_frame(Opcode::kPong, {}, false)}),
                    failed(ProtocolError::kControlFragmented));
    expect_all_ways(server(), client_frame(Opcode::kPing, filled(125)),
                    events({ctl(Opcode::kPing, filled(125))}));
}

TEST_CASE("a 64-bit length with the top bit set or a non-minimal length fails the connection") {
    const Bytes top_bit = bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4});
    expect_all_ways(server(), top_bit, failed(ProtocolError::kBadLength));
    const Bytes five_in_16 = bytes({0x82, 0xFE, 0x00, 0x05, 1, 2, 3, 4, 1, 2, 3, 4, 5});
    expect_all_ways(server(), five_in_16, failed(ProtocolError::kBadLength));
    const Bytes small_in_64 = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0x01, 0x00});
    expect_all_ways(client(), small_in_64, failed(ProtocolError::kBadLength));
}

TEST_CASE("a continuation with no message in progress fails the connection") {
    expect_all_ways(server(), client_frame(Opcode::kContinuation, text("x")),
                    failed(ProtocolError::kUnexpectedContinuation));
    expect_all_ways(server(), cat({client_frame(Opcode::kText, text("a")),
                                   client_frame(Opcode::kContinuation, text("b"), false)}),
                    failed(ProtocolError::kUnexpectedContinuation,
                           {msg(Opcode::kText, text("a"))}));
}

TEST_CASE("a new data frame while a fragmented message is open fails the connection") {
    expect_all_ways(server(), cat({client_frame(Opcode::kText, text("a"), false),
                                   client_frame(Opcode::kText, text("b"))}),
                    failed(ProtocolError::kExpectedContinuation));
    expect_all_ways(server(), cat({client_frame(Opcode::kBinary, text("a"), false),
                                   client_frame(Opcode::kPing, {}),
                                   client_frame(Opcode::kBinary, text("b"), false)}),
                    failed(ProtocolError::kExpectedContinuation, {ctl(Opcode::kPing, {})}));
}

TEST_CASE("invalid UTF-8 in text fails, as soon as the bad byte arrives") {
    SUBCASE("in a single frame") {
        expect_all_ways(server(), client_frame(Opcode::kText, bytes({'a', 0xC0, 0x80})),
                        failed(ProtocolError::kInvalidUtf8));
    }
    SUBCASE("in a later fragment, after a control frame") {
        expect_all_ways(server(), cat({client_frame(Opcode::kText, text("ok"), false),
                                       client_frame(Opcode::kPing, {}),
                                       client_frame(Opcode::kContinuation, bytes({0xED, 0xA0}))}),
                        failed(ProtocolError::kInvalidUtf8, {ctl(Opcode::kPing, {})}));
    }
    SUBCASE("a character split across fragments is fine") {
        expect_all_ways(server(), cat({client_frame(Opcode::kText, bytes({'a', 0xF0, 0x9F}), false),
                                       client_frame(Opcode::kContinuation, bytes({0x98}), false),
                                       client_frame(Opcode::kContinuation, bytes({0x80, 'b'}))}),
                        events({msg(Opcode::kText, bytes({'a', 0xF0, 0x9F, 0x98, 0x80, 'b'}))}));
    }
    SUBCASE("a character cut off by the end of the message") {
        expect_all_ways(server(), client_frame(Opcode::kText, bytes({'a', 0xE2, 0x82})),
                        failed(ProtocolError::kInvalidUtf8));
        expect_all_ways(server(), cat({client_frame(Opcode::kText, bytes({'a', 0xE2}), false),
                                       client_frame(Opcode::kContinuation, bytes({0x82}))}),
                        failed(ProtocolError::kInvalidUtf8));
    }
    SUBCASE("Autobahn 6.4.x: a frame whose rest never comes fails on its bad byte") {
        // A 1000-byte text frame of which only a valid start and one bad byte have arrived.
        Bytes payload(1000, std::byte{'a'});
        payload[20] = std::byte{0xF4};
        payload[21] = std::byte{0x90};  // above U+10FFFF: invalid at this byte
        const Bytes frame = client_frame(Opcode::kText, payload);
        const size_t header = epws::ws::header_size_for(1000, true);
        expect_all_ways(server(), Bytes(frame.begin(), frame.begin() + static_cast<long>(header + 22)),
                        failed(ProtocolError::kInvalidUtf8));
        // One byte short of the bad byte: no verdict yet.
        expect_all_ways(server(), Bytes(frame.begin(), frame.begin() + static_cast<long>(header + 21)),
                        {{}, {}, 0, 21});
    }
    SUBCASE("a binary message is not checked") {
        expect_all_ways(server(), client_frame(Opcode::kBinary, bytes({0xFF, 0xC0})),
                        events({msg(Opcode::kBinary, bytes({0xFF, 0xC0}))}));
    }
}

TEST_CASE("a message over max_message_bytes fails from its header, before the payload") {
    Setup small = server();
    small.limits.max_message_bytes = 10;
    expect_all_ways(small, client_frame(Opcode::kBinary, filled(10)),
                    events({msg(Opcode::kBinary, filled(10))}));
    // Only the header of an 11-byte frame: no payload needed to decide.
    const Bytes frame = client_frame(Opcode::kBinary, filled(11));
    expect_all_ways(small, Bytes(frame.begin(), frame.begin() + 6),
                    failed(ProtocolError::kMessageTooBig));
    // Fragments that add up to too much fail at the header of the one that crosses the limit.
    const Bytes third = client_frame(Opcode::kContinuation, filled(3));
    expect_all_ways(small, cat({client_frame(Opcode::kText, text("12345"), false),
                                client_frame(Opcode::kContinuation, text("6789"), false),
                                Bytes(third.begin(), third.begin() + 6)}),
                    failed(ProtocolError::kMessageTooBig));
    // A huge announced length is refused, with no allocation attempted.
    expect_all_ways(server(), bytes({0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                     1, 2, 3, 4}),
                    failed(ProtocolError::kMessageTooBig));
}

TEST_CASE("a message of more than max_fragments frames fails the connection") {
    Setup few = server();
    few.limits.max_fragments = 3;
    const Bytes three = cat({client_frame(Opcode::kBinary, {}, false),
                             client_frame(Opcode::kContinuation, {}, false),
                             client_frame(Opcode::kContinuation, text("z"), true)});
    expect_all_ways(few, cat({three, three}),
                    events({msg(Opcode::kBinary, text("z")), msg(Opcode::kBinary, text("z"))}));
    expect_all_ways(few, cat({client_frame(Opcode::kBinary, {}, false),
                              client_frame(Opcode::kContinuation, {}, false),
                              client_frame(Opcode::kContinuation, {}, false),
                              client_frame(Opcode::kContinuation, {}, true)}),
                    failed(ProtocolError::kTooManyFragments));
}

TEST_CASE("close payloads are checked for length, code and reason") {
    expect_all_ways(server(), client_frame(Opcode::kClose, bytes({0x03})),
                    failed(ProtocolError::kBadCloseLength));
    expect_all_ways(server(), client_frame(Opcode::kClose, close_payload(1005)),
                    failed(ProtocolError::kBadCloseCode));
    expect_all_ways(server(), client_frame(Opcode::kClose, bytes({0x03, 0xE8, 'a', 0xC3})),
                    failed(ProtocolError::kBadCloseReason));
    expect_all_ways(server(), client_frame(Opcode::kClose, bytes({0x03, 0xE8, 0xED, 0xA0, 0x80})),
                    failed(ProtocolError::kBadCloseReason));
    const Bytes ok = close_payload(4000, "r\xC3\xA9sum\xC3\xA9");
    expect_all_ways(server(), client_frame(Opcode::kClose, ok), events({ctl(Opcode::kClose, ok)}));
}

TEST_CASE("every close code 0..5000 is accepted or refused by the reader as the table says") {
    const Setup s = server();
    size_t accepted = 0;
    for (uint32_t code = 0; code <= 5000; ++code) {
        const Bytes payload = close_payload(static_cast<uint16_t>(code), "x");
        const Outcome got = feed(s, client_frame(Opcode::kClose, payload), {});
        const bool valid = epws::ws::is_valid_wire_close_code(code);
        if (got != (valid ? events({ctl(Opcode::kClose, payload)})
                          : failed(ProtocolError::kBadCloseCode))) {
            CAPTURE(code);
            CHECK(got.error == (valid ? ProtocolError::kNone : ProtocolError::kBadCloseCode));
        }
        accepted += valid ? 1 : 0;
    }
    CHECK(accepted == 4 + 8 + 2000);  // 1000-1003, 1007-1014, 3000-4999
}

TEST_CASE("the assembly buffer holds the message in progress and is freed after delivery") {
    struct Probe : epws::ws::MessageSink {
        MessageReader* reader = nullptr;
        std::vector<size_t> seen;  // buffered_bytes() at each callback
        bool on_message(Opcode, std::span<std::byte>, bool) override {
            seen.push_back(reader->buffered_bytes());
            return true;
        }
        bool on_control(Opcode, std::span<std::byte>) override {
            seen.push_back(reader->buffered_bytes());
            return true;
        }
    };
    ReaderLimits limits;
    MessageReader reader(Role::kServer, &limits);
    Probe probe;
    probe.reader = &reader;
    Bytes stream = cat({client_frame(Opcode::kBinary, filled(1000), false),
                        client_frame(Opcode::kPing, {}),
                        client_frame(Opcode::kContinuation, filled(500), true)});
    const epws::ws::ReadResult r = reader.read(stream, probe);
    CHECK(r.error == ProtocolError::kNone);
    CHECK(r.consumed == stream.size());
    CHECK(probe.seen == std::vector<size_t>{1000, 0});  // during the ping; moved out for delivery
    CHECK(reader.buffered_bytes() == 0);
    CHECK(reader.buffered_capacity() == 0);
    // A partly received single frame is buffered, then freed too.
    Bytes frame = client_frame(Opcode::kBinary, filled(200));
    const size_t half = 100;
    const size_t header = epws::ws::header_size_for(200, true);
    Bytes first(frame.begin(), frame.begin() + static_cast<long>(half));
    CHECK(reader.read(first, probe).consumed == half);
    CHECK(reader.buffered_bytes() == half - header);
    CHECK(reader.buffered_capacity() >= half - header);
    Bytes second(frame.begin() + static_cast<long>(half), frame.end());
    CHECK(reader.read(second, probe).consumed == second.size());
    CHECK(reader.buffered_bytes() == 0);
    CHECK(reader.buffered_capacity() == 0);
}

TEST_CASE("a whole unfragmented frame is delivered from the caller's buffer, without a copy") {
    struct Where : epws::ws::MessageSink {
        const std::byte* at = nullptr;
        bool on_message(Opcode, std::span<std::byte> payload, bool) override {
            at = payload.data();
            return true;
        }
        bool on_control(Opcode, std::span<std::byte>) override { return true; }
    };
    ReaderLimits limits;
    MessageReader reader(Role::kServer, &limits);
    Where sink;
    Bytes stream = client_frame(Opcode::kText, text("in place"));
    CHECK(reader.read(stream, sink).error == ProtocolError::kNone);
    CHECK(sink.at == stream.data() + 6);
    CHECK(Bytes(stream.begin() + 6, stream.end()) == text("in place"));  // unmasked in place
    CHECK(reader.buffered_capacity() == 0);
}

TEST_CASE("when the sink returns false, read stops right after that message or control frame") {
    struct StopEach : epws::ws::MessageSink {
        int calls = 0;
        bool on_message(Opcode, std::span<std::byte>, bool) override { return ++calls, false; }
        bool on_control(Opcode, std::span<std::byte>) override { return ++calls, false; }
    };
    ReaderLimits limits;
    MessageReader reader(Role::kServer, &limits);
    StopEach sink;
    const Bytes a = client_frame(Opcode::kText, text("a"));
    const Bytes b = cat({client_frame(Opcode::kBinary, text("b"), false),
                         client_frame(Opcode::kContinuation, text("c"))});
    const Bytes c = client_frame(Opcode::kClose, close_payload(1000));
    Bytes stream = cat({a, b, c});
    std::span<std::byte> rest(stream);
    for (const size_t want : {a.size(), b.size(), c.size()}) {
        const epws::ws::ReadResult r = reader.read(rest, sink);
        CHECK(r.error == ProtocolError::kNone);
        CHECK(r.consumed == want);
        rest = rest.subspan(r.consumed);
    }
    CHECK(rest.empty());
    CHECK(sink.calls == 3);
}

TEST_CASE("an empty message made of empty fragments is delivered with a non-null pointer") {
    // Found by tests/fuzz/chat_protocol_fuzz.cc: a null pointer with size 0 reached memcpy.
    struct Sink final : epws::ws::MessageSink {
        const std::byte* data = nullptr;
        size_t size = 99;
        bool on_message(epws::ws::Opcode, std::span<std::byte> p, bool) override {
            data = p.data();
            size = p.size();
            return true;
        }
        bool on_control(epws::ws::Opcode, std::span<std::byte>) override { return true; }
    } sink;
    epws::ws::ReaderLimits limits;
    epws::ws::MessageReader reader(epws::ws::Role::kServer, &limits);
    std::byte in[] = {std::byte{0x01}, std::byte{0x80}, std::byte{1}, std::byte{2}, std::byte{3},
                      std::byte{4}, std::byte{0x80}, std::byte{0x80}, std::byte{1}, std::byte{2},
                      std::byte{3}, std::byte{4}};
    epws::ws::ReadResult r = reader.read(in, sink);
    CHECK(r.error == epws::ws::ProtocolError::kNone);
    CHECK(sink.size == 0);
    CHECK(sink.data != nullptr);
}

}  // TEST_SUITE
