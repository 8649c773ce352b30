// tests/ws/trace_test.cc: unit tests for ws/trace.cc, the annotator behind epws-cat --trace.
// Layer: tests/. Frames are RFC 6455 §5.7's examples; the handshake is §1.3's.
#include "ws/trace.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

using epws::ws::TraceAnnotator;
using epws::ws::TraceDirection;
using Bytes = std::vector<std::byte>;

constexpr auto kUp = TraceDirection::kClientToServer;
constexpr auto kDown = TraceDirection::kServerToClient;

Bytes text(std::string_view s) {
    Bytes out(s.size());
    if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
    return out;
}

Bytes bytes(std::initializer_list<int> v) {
    Bytes out;
    for (int x : v) out.push_back(static_cast<std::byte>(x));
    return out;
}

// The RFC 6455 §1.3 key and its accept value.
const std::string kRequest =
    "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";
const std::string kResponse =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
// §5.7: a masked "Hello" from the client, an unmasked one from the server, and the
// fragmented unmasked "Hel" + "lo".
const Bytes kMaskedHello = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
const Bytes kHello = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const Bytes kFragments = bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});

// Feeds one direction's bytes in pieces of `step` (0: whole) and returns the account.
std::string feed(TraceAnnotator& t, TraceDirection d, const Bytes& b, size_t step) {
    std::string out;
    if (step == 0) step = b.size();
    for (size_t i = 0; i < b.size(); i += step)
        t.feed(d, std::span(b).subspan(i, std::min(step, b.size() - i)), out);
    return out;
}

std::string session(size_t step) {
    TraceAnnotator t;
    std::string out = feed(t, kUp, text(kRequest), step);
    out += feed(t, kDown, text(kResponse), step);
    out += feed(t, kUp, kMaskedHello, step);
    out += feed(t, kDown, kHello, step);
    out += feed(t, kDown, kFragments, step);
    return out;
}

}  // namespace

TEST_SUITE("ws/trace") {
    TEST_CASE("the accept value is computed step by step as RFC 6455 §1.3 shows it") {
        std::string s = epws::ws::explain_accept("dGhlIHNhbXBsZSBub25jZQ==");
        CHECK(s.find("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11") != std::string::npos);
        // §1.3 gives the SHA-1 as 0xb3 0x7a 0x4f 0x2c ... 0xea.
        CHECK(s.find("b3 7a 4f 2c c0 62 4f 16 90 f6 46 06 cf 38 59 45 b2 be c4 ea") != std::string::npos);
        CHECK(s.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != std::string::npos);
    }

    TEST_CASE("a session is explained: handshake, masked and unmasked frames, fragments") {
        std::string s = session(0);
        CHECK(s.find("HTTP upgrade request, " + std::to_string(kRequest.size()) + " bytes") != std::string::npos);
        CHECK(s.find("it matches, the handshake is complete") != std::string::npos);
        CHECK(s.find("masking key 37 fa 21 3d") != std::string::npos);
        CHECK(s.find("payload, masked:   7f 9f 4d 51 58") != std::string::npos);
        CHECK(s.find("payload, unmasked: 48 65 6c 6c 6f") != std::string::npos);
        CHECK(s.find("as text: \"Hello\"") != std::string::npos);
        CHECK(s.find("FIN 0: more fragments of this message follow") != std::string::npos);
        CHECK(s.find("opcode 0x0 continuation") != std::string::npos);
        CHECK(s.find("MASK 0: server frames are never masked") != std::string::npos);
    }

    TEST_CASE("the account is the same whole, byte by byte and in pieces of every size") {
        std::string whole = session(0);
        for (size_t step = 1; step <= 40; ++step) {
            CAPTURE(step);
            REQUIRE(session(step) == whole);
        }
    }

    TEST_CASE("a wrong accept value is called out") {
        TraceAnnotator t;
        std::string out = feed(t, kUp, text(kRequest), 0);
        std::string bad = kResponse;
        bad.replace(bad.find("s3pP"), 4, "AAAA");
        out += feed(t, kDown, text(bad), 0);
        CHECK(out.find("does NOT match") != std::string::npos);
    }

    TEST_CASE("a refused upgrade shows the status and then the body as plain bytes") {
        TraceAnnotator t;
        std::string out = feed(t, kUp, text(kRequest), 0);
        out += feed(t, kDown, text("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno\n"), 0);
        CHECK(out.find("any status but 101 refuses the upgrade") != std::string::npos);
        CHECK(out.find("not WebSocket frames from here on") != std::string::npos);
        CHECK(out.find("6e 6f 0a") == std::string::npos);  // a partial line waits for finish()
        t.finish(out);
        CHECK(out.find("    raw: 6e 6f 0a\n") != std::string::npos);
        CHECK(t.frames() == 0);
    }

    TEST_CASE("what is left at the end is shown by finish, whatever the split") {
        auto run = [](size_t step) {
            TraceAnnotator t;
            std::string out = feed(t, kUp, text(kRequest), step);
            out += feed(t, kDown, text(kResponse), step);
            out += feed(t, kDown, bytes({0x81, 0x05, 0x48, 0x65}), step);  // 3 bytes short
            t.finish(out);
            return out;
        };
        std::string whole = run(0);
        CHECK(whole.find("4 bytes at the end, an incomplete frame") != std::string::npos);
        for (size_t step = 1; step <= 8; ++step) REQUIRE(run(step) == whole);
    }

    TEST_CASE("the three length encodings are each named") {
        TraceAnnotator t;
        std::string out = feed(t, kUp, text(kRequest), 0);
        out += feed(t, kDown, text(kResponse), 0);
        Bytes f126 = bytes({0x82, 0x7e, 0x01, 0x00});
        f126.resize(4 + 256);
        Bytes f127 = bytes({0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0});
        f127.resize(10 + 65536);
        out += feed(t, kDown, f126, 0);
        out += feed(t, kDown, f127, 0);
        CHECK(out.find("16-bit length, for 126..65535") != std::string::npos);
        CHECK(out.find("= 65536: 64-bit length") != std::string::npos);
        CHECK(t.frames() == 2);
    }

    TEST_CASE("a non-minimal length is called a protocol error and the rest shown raw") {
        TraceAnnotator t;
        std::string out = feed(t, kUp, text(kRequest), 0);
        out += feed(t, kDown, text(kResponse), 0);
        out += feed(t, kDown, bytes({0x82, 0x7e, 0x00, 0x05, 1, 2, 3, 4, 5}), 0);
        CHECK(out.find("not in its minimal form") != std::string::npos);
    }

    TEST_CASE("a frame over the limit is described and its payload streams past") {
        epws::ws::TraceLimits limits;
        limits.max_frame_bytes = 100;
        TraceAnnotator t(limits);
        std::string out = feed(t, kUp, text(kRequest), 0);
        out += feed(t, kDown, text(kResponse), 0);
        Bytes big = bytes({0x82, 0x7e, 0x01, 0x00});
        big.resize(4 + 256);
        out += feed(t, kDown, big, 7);
        out += feed(t, kDown, kHello, 0);
        CHECK(out.find("over this trace's 100: not shown") != std::string::npos);
        CHECK(out.find("as text: \"Hello\"") != std::string::npos);
        CHECK(t.frames() == 2);
    }

    TEST_CASE("close frames are read: code, name and reason") {
        TraceAnnotator t;
        std::string out = feed(t, kUp, text(kRequest), 0);
        out += feed(t, kDown, text(kResponse), 0);
        out += feed(t, kDown, bytes({0x88, 0x05, 0x03, 0xe9, 'b', 'y', 'e'}), 0);
        CHECK(out.find("close code 1001 (going away), reason \"bye\"") != std::string::npos);
    }
}
