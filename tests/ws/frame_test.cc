// tests/ws/frame_test.cc: unit tests for ws/frame.cc (header codec, masking, close payloads).
// Layer: tests/. The byte strings are RFC 6455 §5.7's examples, copied from the RFC.
#include "ws/frame.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "ws/utf8.h"

namespace {

using epws::ws::Opcode;
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

// The header, as the codec encodes it, for comparison with the RFC's bytes.
Bytes header(Opcode op, uint64_t len, bool fin = true, const std::byte* mask = nullptr) {
    Bytes out(epws::ws::kMaxFrameHeader);
    out.resize(epws::ws::encode_frame_header(out.data(), op, len, fin, false, mask));
    return out;
}

Bytes masked(Bytes payload, const Bytes& key) {
    epws::ws::apply_mask(payload.data(), payload.size(), key.data());
    return payload;
}

const Bytes kRfcKey = bytes({0x37, 0xfa, 0x21, 0x3d});

}  // namespace

TEST_SUITE("ws/frame") {

TEST_CASE("control opcodes are exactly close, ping and pong") {
    CHECK(epws::ws::is_control(Opcode::kClose));
    CHECK(epws::ws::is_control(Opcode::kPing));
    CHECK(epws::ws::is_control(Opcode::kPong));
    CHECK_FALSE(epws::ws::is_control(Opcode::kContinuation));
    CHECK_FALSE(epws::ws::is_control(Opcode::kText));
    CHECK_FALSE(epws::ws::is_control(Opcode::kBinary));
    for (uint8_t op = 0; op < 16; ++op) {
        const bool known = op == 0 || op == 1 || op == 2 || op == 8 || op == 9 || op == 10;
        CHECK(epws::ws::is_known_opcode(op) == known);
    }
}

TEST_CASE("encoding reproduces every RFC 6455 section 5.7 example byte for byte") {
    SUBCASE("a single-frame unmasked text message") {
        CHECK(header(Opcode::kText, 5) == bytes({0x81, 0x05}));
    }
    SUBCASE("a single-frame masked text message") {
        Bytes frame = header(Opcode::kText, 5, true, kRfcKey.data());
        const Bytes payload = masked(text("Hello"), kRfcKey);
        frame.insert(frame.end(), payload.begin(), payload.end());
        CHECK(frame == bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
    }
    SUBCASE("a fragmented unmasked text message") {
        CHECK(header(Opcode::kText, 3, false) == bytes({0x01, 0x03}));
        CHECK(header(Opcode::kContinuation, 2, true) == bytes({0x80, 0x02}));
    }
    SUBCASE("an unmasked ping and a masked pong") {
        CHECK(header(Opcode::kPing, 5) == bytes({0x89, 0x05}));
        Bytes pong = header(Opcode::kPong, 5, true, kRfcKey.data());
        const Bytes payload = masked(text("Hello"), kRfcKey);
        pong.insert(pong.end(), payload.begin(), payload.end());
        CHECK(pong == bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
    }
    SUBCASE("256 bytes of binary use the 16-bit length") {
        CHECK(header(Opcode::kBinary, 256) == bytes({0x82, 0x7E, 0x01, 0x00}));
    }
    SUBCASE("64 KiB of binary use the 64-bit length") {
        CHECK(header(Opcode::kBinary, 65536) ==
              bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));
    }
}

TEST_CASE("lengths switch to 16 and 64 bits exactly at 126 and 65536, and decode back") {
    const uint64_t lengths[] = {0, 1, 125, 126, 127, 65535, 65536, 65537, 1ull << 32,
                                (1ull << 63) - 1};
    for (const bool with_mask : {false, true}) {
        for (const uint64_t len : lengths) {
            CAPTURE(len);
            CAPTURE(with_mask);
            const Bytes h = header(Opcode::kBinary, len, true, with_mask ? kRfcKey.data() : nullptr);
            const size_t ext = len <= 125 ? 0 : len <= 65535 ? 2 : 8;
            CHECK(h.size() == 2 + ext + (with_mask ? 4 : 0));
            CHECK(h.size() == epws::ws::header_size_for(len, with_mask));
            CHECK(epws::ws::header_size_from(h[1]) == h.size());
            epws::ws::FrameHeader d;
            REQUIRE(epws::ws::decode_frame_header(h.data(), &d) == epws::ws::ProtocolError::kNone);
            CHECK(d.payload_len == len);
            CHECK(d.size == h.size());
            CHECK(d.masked == with_mask);
            CHECK(d.opcode == Opcode::kBinary);
            CHECK(d.fin);
            if (with_mask) CHECK(Bytes(d.mask, d.mask + 4) == kRfcKey);
        }
    }
}

TEST_CASE("header bits FIN, RSV1 and the opcode round-trip through decode") {
    for (const bool fin : {false, true}) {
        for (const bool rsv1 : {false, true}) {
            std::byte out[epws::ws::kMaxFrameHeader];
            const size_t n = epws::ws::encode_frame_header(out, Opcode::kText, 3, fin, rsv1);
            REQUIRE(n == 2);
            epws::ws::FrameHeader d;
            REQUIRE(epws::ws::decode_frame_header(out, &d) == epws::ws::ProtocolError::kNone);
            CHECK(d.fin == fin);
            CHECK(d.rsv1 == rsv1);
            CHECK_FALSE(d.rsv2);
            CHECK_FALSE(d.rsv3);
            CHECK(d.opcode == Opcode::kText);
        }
    }
}

TEST_CASE("decoding rejects a 64-bit length with its top bit set and non-minimal lengths") {
    using epws::ws::ProtocolError;
    epws::ws::FrameHeader d;
    const Bytes top_bit = bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0});
    CHECK(epws::ws::decode_frame_header(top_bit.data(), &d) == ProtocolError::kBadLength);
    const Bytes short_in_16 = bytes({0x82, 0x7E, 0x00, 0x7D});  // 125 belongs in 7 bits
    CHECK(epws::ws::decode_frame_header(short_in_16.data(), &d) == ProtocolError::kBadLength);
    const Bytes min_16 = bytes({0x82, 0x7E, 0x00, 0x7E});  // 126 is the smallest 16-bit length
    CHECK(epws::ws::decode_frame_header(min_16.data(), &d) == ProtocolError::kNone);
    const Bytes short_in_64 = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF});
    CHECK(epws::ws::decode_frame_header(short_in_64.data(), &d) == ProtocolError::kBadLength);
    const Bytes min_64 = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0});
    CHECK(epws::ws::decode_frame_header(min_64.data(), &d) == ProtocolError::kNone);
}

TEST_CASE("apply_mask equals the byte-by-byte definition at every phase and length") {
    const Bytes key = bytes({0x01, 0x23, 0xc5, 0xf7});
    for (size_t phase = 0; phase < 4; ++phase) {
        for (size_t len = 0; len <= 41; ++len) {
            CAPTURE(phase);
            CAPTURE(len);
            Bytes data(len);
            for (size_t i = 0; i < len; ++i) data[i] = static_cast<std::byte>(i * 37 + 11);
            Bytes want = data;
            for (size_t i = 0; i < len; ++i) want[i] ^= key[(phase + i) % 4];
            // An odd start address too: the 8-byte loop must not assume alignment.
            Bytes shifted(len + 1);
            std::copy(data.begin(), data.end(), shifted.begin() + 1);
            const size_t next = epws::ws::apply_mask(data.data(), len, key.data(), phase);
            epws::ws::apply_mask(shifted.data() + 1, len, key.data(), phase);
            CHECK(data == want);
            CHECK(Bytes(shifted.begin() + 1, shifted.end()) == want);
            CHECK(next == (phase + len) % 4);
        }
    }
}

TEST_CASE("apply_mask chained over a payload split at any offset equals one call") {
    const Bytes key = bytes({0xde, 0xad, 0xbe, 0xef});
    Bytes plain(29);
    for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<std::byte>(i);
    Bytes whole = plain;
    epws::ws::apply_mask(whole.data(), whole.size(), key.data());
    for (size_t cut = 0; cut <= plain.size(); ++cut) {
        CAPTURE(cut);
        Bytes parts = plain;
        const size_t phase = epws::ws::apply_mask(parts.data(), cut, key.data(), 0);
        epws::ws::apply_mask(parts.data() + cut, parts.size() - cut, key.data(), phase);
        CHECK(parts == whole);
    }
}

TEST_CASE("masking twice with the same key restores the payload") {
    Bytes data = text("The quick brown fox jumps over the lazy dog");
    const Bytes original = data;
    epws::ws::apply_mask(data.data(), data.size(), kRfcKey.data(), 2);
    CHECK(data != original);
    epws::ws::apply_mask(data.data(), data.size(), kRfcKey.data(), 2);
    CHECK(data == original);
}

TEST_CASE("a close payload is the big-endian code followed by the reason") {
    std::byte out[epws::ws::kMaxControlPayload];
    const size_t n = epws::ws::encode_close_payload(out, 1001, "bye");
    CHECK(Bytes(out, out + n) == bytes({0x03, 0xE9, 'b', 'y', 'e'}));
    CHECK(epws::ws::encode_close_payload(out, 4999, "") == 2);
    CHECK(Bytes(out, out + 2) == bytes({0x13, 0x87}));
    CHECK(epws::ws::close_payload_code({out, 2}) == 4999);
    CHECK(epws::ws::close_payload_code({out, 0}) == 1005);
}

TEST_CASE("a long close reason is cut to fit 125 bytes without splitting a character") {
    struct Case {
        std::string unit;  // one character, 1 to 4 bytes of UTF-8
        size_t want_reason;
    };
    const Case cases[] = {
        {"a", 123},                  // 123 ASCII bytes fit exactly
        {"\xC3\xA9", 122},           // 61 two-byte characters: the 62nd would straddle byte 123
        {"\xE2\x82\xAC", 123},       // 41 three-byte characters are exactly 123 bytes
        {"\xF0\x9F\x98\x80", 120},   // 30 four-byte characters; the 31st would not fit
    };
    for (const Case& c : cases) {
        CAPTURE(c.unit);
        std::string reason;
        while (reason.size() < 300) reason += c.unit;
        std::byte out[epws::ws::kMaxControlPayload];
        const size_t n = epws::ws::encode_close_payload(out, 1000, reason);
        CHECK(n == 2 + c.want_reason);
        CHECK(n <= epws::ws::kMaxControlPayload);
        CHECK(epws::ws::is_valid_utf8(out + 2, n - 2));
        CHECK(std::memcmp(out + 2, reason.data(), n - 2) == 0);
    }
}

TEST_CASE("validate_close_payload classifies length, code and reason") {
    using epws::ws::ProtocolError;
    auto check = [](const Bytes& p) { return epws::ws::validate_close_payload(p.data(), p.size()); };
    CHECK(check({}) == ProtocolError::kNone);
    CHECK(check(bytes({0x03})) == ProtocolError::kBadCloseLength);
    CHECK(check(bytes({0x03, 0xE8})) == ProtocolError::kNone);
    CHECK(check(bytes({0x03, 0xE8, 'o', 'k'})) == ProtocolError::kNone);
    CHECK(check(bytes({0x03, 0xED})) == ProtocolError::kBadCloseCode);  // 1005
    CHECK(check(bytes({0x03, 0xE8, 0xFF})) == ProtocolError::kBadCloseReason);
    CHECK(check(bytes({0x03, 0xE8, 0xCE})) == ProtocolError::kBadCloseReason);  // cut short
}

}  // TEST_SUITE
