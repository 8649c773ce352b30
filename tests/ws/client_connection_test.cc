// tests/ws/client_connection_test.cc: the client glue on a socket pair driven by a real Loop;
// the test plays the server by hand, byte by byte where it matters.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "net/loop.h"
#include "ws/client_connection.h"
#include "ws/deflate.h"

using namespace epws;
using namespace epws::ws;

namespace {

struct Recorder final : ClientHandler {
    int opens = 0;
    std::vector<std::string> messages;
    int closes = 0;
    uint16_t code = 0;
    ClientFailure failure = ClientFailure::kNone;

    void on_open(ClientConnection&) override { ++opens; }
    void on_message(ClientConnection&, Opcode, std::span<std::byte> p) override {
        messages.emplace_back(reinterpret_cast<const char*>(p.data()), p.size());
    }
    void on_closed(ClientConnection&, uint16_t c, ClientFailure f) override {
        ++closes;
        code = c;
        failure = f;
    }
};

struct Fixture {
    std::unique_ptr<net::Loop> loop;
    ClientConfig config;
    Recorder rec;
    ClientConnection* client = nullptr;
    int peer = -1;
    std::string request;  // the upgrade request as the peer read it

    explicit Fixture(ClientConfig cfg = {}) : config(std::move(cfg)) {
        std::string err;
        loop = net::Loop::create(err);
        REQUIRE(loop);
        int sv[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
        peer = sv[1];
        auto c = std::make_unique<ClientConnection>(*loop, sv[0], config, rec);
        client = c.get();
        REQUIRE(loop->adopt(std::move(c)));
        REQUIRE(client->start());
    }
    ~Fixture() { ::close(peer); }

    std::string read_peer() {
        spin();
        std::string out;
        char buf[4096];
        for (ssize_t n; (n = ::read(peer, buf, sizeof(buf))) > 0;) out.append(buf, size_t(n));
        return out;
    }
    void write_peer(const std::string& s) { REQUIRE(::write(peer, s.data(), s.size()) == ssize_t(s.size())); }
    void spin() {
        for (int i = 0; i < 4; ++i) loop->run_once(0);
    }
    // Answers the request the client sent with a 101 (or a wrong accept value) plus `extra`.
    void accept(bool good_accept = true, const std::string& extra = {},
                const std::string& extensions = {}) {
        request = read_peer();
        const std::string& req = request;
        auto at = req.find("Sec-WebSocket-Key: ");
        REQUIRE(at != std::string::npos);
        std::string key = req.substr(at + 19, 24);
        char acc[kAcceptKeySize];
        REQUIRE(accept_key(good_accept ? key : std::string(24, 'A'), acc));
        write_peer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                   std::string(acc, kAcceptKeySize) + "\r\n" +
                   (extensions.empty() ? "" : "Sec-WebSocket-Extensions: " + extensions + "\r\n") +
                   "\r\n" + extra);
        spin();
    }
};

std::string server_frame(Opcode op, const std::string& payload, bool rsv1 = false) {
    std::byte h[kMaxFrameHeader];
    size_t n = encode_frame_header(h, op, payload.size(), true, rsv1);
    return std::string(reinterpret_cast<const char*>(h), n) + payload;
}

std::span<const std::byte> bytes(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string text_of(const std::vector<std::byte>& v) {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
}

// A compressed message as a server sends it: raw DEFLATE without the 00 00 ff ff tail.
std::string deflated(Deflater& d, const std::string& text, bool reset) {
    std::vector<std::byte> out;
    REQUIRE(d.compress(bytes(text), out, reset));
    return text_of(out);
}

// One client frame read off the wire: RSV1 and the unmasked payload.
struct WireFrame {
    bool rsv1 = false;
    Opcode op = Opcode::kContinuation;
    std::string payload;
};

WireFrame take_client_frame(std::string& wire) {
    FrameHeader h;
    REQUIRE(wire.size() >= 2);
    REQUIRE(decode_frame_header(reinterpret_cast<const std::byte*>(wire.data()), &h) == ProtocolError::kNone);
    REQUIRE(h.masked);
    REQUIRE(wire.size() >= h.size + h.payload_len);
    std::string p = wire.substr(h.size, h.payload_len);
    apply_mask(reinterpret_cast<std::byte*>(p.data()), p.size(), h.mask);
    wire.erase(0, h.size + h.payload_len);
    return {h.rsv1, h.opcode, p};
}

ClientConfig deflate_config(bool no_context_takeover) {
    ClientConfig c;
    c.deflate.offer = true;
    c.deflate.no_context_takeover = no_context_takeover;
    return c;
}

const char* kChatLine = "{\"type\":\"say\",\"room\":\"lobby\",\"text\":\"hello hello hello hello\"}";

}  // namespace

TEST_SUITE("ws/client_connection") {

TEST_CASE("a client sends a valid upgrade request and opens on a correct 101") {
    Fixture f;
    f.accept();
    CHECK(f.rec.opens == 1);
    CHECK(f.client->is_open());
}

TEST_CASE("a wrong accept value fails the handshake and closes the connection") {
    Fixture f;
    f.accept(false);
    CHECK(f.rec.opens == 0);
    CHECK(f.rec.closes == 1);
    CHECK(f.rec.failure == ClientFailure::kHandshake);
}

TEST_CASE("frames that arrive with the 101 and byte by byte are all delivered") {
    Fixture f;
    f.accept(true, server_frame(Opcode::kText, "first"));
    std::string second = server_frame(Opcode::kBinary, std::string(300, 'x'));
    for (char ch : second) {
        f.write_peer(std::string(1, ch));
        f.spin();
    }
    REQUIRE(f.rec.messages.size() == 2);
    CHECK(f.rec.messages[0] == "first");
    CHECK(f.rec.messages[1] == std::string(300, 'x'));
}

TEST_CASE("the client masks every frame it sends, large ones included") {
    Fixture f;
    f.accept();
    std::string big(10000, 'q');
    for (size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 26);
    f.client->send_message(Opcode::kBinary, {reinterpret_cast<const std::byte*>(big.data()), big.size()});
    std::string wire = f.read_peer();
    REQUIRE(wire.size() >= 14);
    FrameHeader h;
    REQUIRE(decode_frame_header(reinterpret_cast<const std::byte*>(wire.data()), &h) == ProtocolError::kNone);
    CHECK(h.masked);
    CHECK(h.payload_len == big.size());
    REQUIRE(wire.size() == h.size + big.size());
    auto* p = reinterpret_cast<std::byte*>(wire.data() + h.size);
    apply_mask(p, big.size(), h.mask);
    CHECK(wire.substr(h.size) == big);
}

TEST_CASE("a masked frame from the server is a protocol error") {
    Fixture f;
    f.accept();
    std::byte h[kMaxFrameHeader];
    std::byte key[4] = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    size_t n = encode_frame_header(h, Opcode::kText, 0, true, false, key);
    f.write_peer(std::string(reinterpret_cast<const char*>(h), n));
    f.spin();
    CHECK(f.client->protocol_error() != ProtocolError::kNone);
    ::shutdown(f.peer, SHUT_WR);
    f.spin();
    CHECK(f.rec.closes == 1);
    CHECK(f.rec.failure == ClientFailure::kProtocol);
}

TEST_CASE("a close started by the client ends cleanly with the server's code") {
    Fixture f;
    f.accept();
    f.client->close_websocket(1000);
    std::string wire = f.read_peer();
    FrameHeader h;
    REQUIRE(decode_frame_header(reinterpret_cast<const std::byte*>(wire.data()), &h) == ProtocolError::kNone);
    CHECK(h.opcode == Opcode::kClose);
    std::string payload = "\x03\xe8";
    f.write_peer(server_frame(Opcode::kClose, payload));
    ::shutdown(f.peer, SHUT_WR);
    f.spin();
    CHECK(f.rec.closes == 1);
    CHECK(f.rec.code == 1000);
    CHECK(f.rec.failure == ClientFailure::kNone);
}

TEST_CASE("a ping from the server is answered with a masked pong") {
    Fixture f;
    f.accept();
    f.write_peer(server_frame(Opcode::kPing, "hi"));
    std::string wire = f.read_peer();
    FrameHeader h;
    REQUIRE(decode_frame_header(reinterpret_cast<const std::byte*>(wire.data()), &h) == ProtocolError::kNone);
    CHECK(h.opcode == Opcode::kPong);
    CHECK(h.masked);
    auto* p = reinterpret_cast<std::byte*>(wire.data() + h.size);
    apply_mask(p, 2, h.mask);
    CHECK(wire.substr(h.size) == "hi");
}

TEST_CASE("the deflate offer is what browsers send, plus both no-context-takeover flags on request") {
    ClientDeflateConfig c;
    CHECK(client_deflate_offer(c).empty());
    c.offer = true;
    CHECK(client_deflate_offer(c) == "permessage-deflate; client_max_window_bits");
    c.no_context_takeover = true;
    CHECK(client_deflate_offer(c) == "permessage-deflate; client_max_window_bits; "
                                     "server_no_context_takeover; client_no_context_takeover");
}

TEST_CASE("the server's deflate answer is accepted or fails the connection as RFC 7692 says") {
    ClientDeflateConfig c;
    c.offer = true;
    DeflateParams p;
    CHECK(accept_deflate_answer(nullptr, c, p));
    CHECK_FALSE(bool(p.enabled));
    struct Case {
        const char* answer;
        bool ok;
    };
    const Case cases[] = {
        {"permessage-deflate", true},
        {"permessage-deflate; server_no_context_takeover; client_no_context_takeover", true},
        {"permessage-deflate; client_max_window_bits=10", true},
        {"permessage-deflate; client_max_window_bits=\"10\"", true},
        {"permessage-deflate; server_max_window_bits=8", true},
        {"permessage-deflate;client_max_window_bits=15 ", true},
        {"permessage-deflate; client_max_window_bits", false},     // §7.1.2.2: needs a value
        {"permessage-deflate; client_max_window_bits=16", false},  // out of 8..15
        {"permessage-deflate; client_max_window_bits=7", false},
        {"permessage-deflate; client_max_window_bits=08", false},  // leading zero
        {"permessage-deflate; server_max_window_bits", false},
        {"permessage-deflate; server_no_context_takeover=1", false},
        {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", false},
        {"permessage-deflate; x=1", false},
        {"permessage-deflate, permessage-deflate", false},  // one offer, one answer
        {"x-webkit-deflate-frame", false},
        {"permessage-deflate; ;", false},
        {"", false},
    };
    for (const Case& k : cases) {
        std::string_view a = k.answer;
        CAPTURE(a);
        CHECK(accept_deflate_answer(&a, c, p) == k.ok);
        if (k.ok) CHECK(bool(p.enabled));
    }
    std::string_view a = "permessage-deflate; server_no_context_takeover; client_max_window_bits=9";
    REQUIRE(accept_deflate_answer(&a, c, p));
    CHECK(bool(p.server_no_context_takeover));
    CHECK_FALSE(bool(p.client_no_context_takeover));
    CHECK(p.client_window_bits == 9);
    // Asked for no context takeover, and the server would keep its context: fail.
    c.no_context_takeover = true;
    a = "permessage-deflate";
    CHECK_FALSE(accept_deflate_answer(&a, c, p));
    // An answer to an offer we never made fails too.
    c.offer = false;
    CHECK_FALSE(accept_deflate_answer(&a, c, p));
}

TEST_CASE("an unoffered extension in the 101 fails the handshake") {
    Fixture f;
    f.accept(true, {}, "permessage-deflate");
    CHECK(f.rec.opens == 0);
    CHECK(f.rec.failure == ClientFailure::kHandshake);
}

TEST_CASE("a declined deflate offer leaves messages uncompressed") {
    Fixture f(deflate_config(false));
    f.accept();
    CHECK(f.request.find("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n") !=
          std::string::npos);
    REQUIRE(f.client->is_open());
    CHECK_FALSE(f.client->deflate_params().enabled);
    f.client->send_message(Opcode::kText, bytes(kChatLine));
    std::string wire = f.read_peer();
    WireFrame fr = take_client_frame(wire);
    CHECK_FALSE(fr.rsv1);
    CHECK(fr.payload == kChatLine);
}

TEST_CASE("without context takeover, compressed messages go both ways, whole and byte by byte") {
    Fixture f(deflate_config(true));
    f.accept(true, {}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    REQUIRE(f.client->is_open());
    CHECK(f.client->deflate_params().enabled);
    Deflater server;
    REQUIRE(server.init(6, 15, 8, nullptr));
    std::string frame = server_frame(Opcode::kText, deflated(server, kChatLine, true), true);
    f.write_peer(frame);
    f.spin();
    for (char ch : frame) {
        f.write_peer(std::string(1, ch));
        f.spin();
    }
    REQUIRE(f.rec.messages.size() == 2);
    CHECK(f.rec.messages[0] == kChatLine);
    CHECK(f.rec.messages[1] == kChatLine);
    // Our side: RSV1, and the payload inflates (with the tail put back) to what we sent.
    Inflater inflater;
    REQUIRE(inflater.init(15, nullptr));
    for (int i = 0; i < 2; ++i) {
        f.client->send_message(Opcode::kText, bytes(kChatLine));
        std::string wire = f.read_peer();
        WireFrame fr = take_client_frame(wire);
        CHECK(fr.rsv1);
        CHECK(fr.payload.size() < std::string(kChatLine).size());
        std::vector<std::byte> plain;
        REQUIRE(inflater.inflate(bytes(fr.payload), 1 << 20, plain, true) == ProtocolError::kNone);
        CHECK(text_of(plain) == kChatLine);
    }
}

TEST_CASE("with context takeover both directions keep their window across messages") {
    Fixture f(deflate_config(false));
    f.accept(true, {}, "permessage-deflate; client_max_window_bits=15");
    REQUIRE(f.client->is_open());
    Deflater server;
    REQUIRE(server.init(6, 15, 8, nullptr));
    Inflater inflater;
    REQUIRE(inflater.init(15, nullptr));
    size_t sizes[3] = {};
    for (int i = 0; i < 3; ++i) {
        f.write_peer(server_frame(Opcode::kText, deflated(server, kChatLine, false), true));
        f.client->send_message(Opcode::kText, bytes(kChatLine));
        std::string wire = f.read_peer();
        WireFrame fr = take_client_frame(wire);
        CHECK(fr.rsv1);
        sizes[i] = fr.payload.size();
        std::vector<std::byte> plain;
        REQUIRE(inflater.inflate(bytes(fr.payload), 1 << 20, plain, false) == ProtocolError::kNone);
        CHECK(text_of(plain) == kChatLine);
    }
    REQUIRE(f.rec.messages.size() == 3);
    for (const std::string& m : f.rec.messages) CHECK(m == kChatLine);
    CHECK(sizes[1] < sizes[0]);  // the second message refers back to the first
}

TEST_CASE("corrupt compressed data fails the connection with 1007") {
    Fixture f(deflate_config(true));
    f.accept(true, {}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    REQUIRE(f.client->is_open());
    f.write_peer(server_frame(Opcode::kText, "\xff\xff\xff\xff\xff", true));
    std::string wire = f.read_peer();
    CHECK(f.client->protocol_error() == ProtocolError::kBadDeflateData);
    WireFrame fr = take_client_frame(wire);
    CHECK(fr.op == Opcode::kClose);
    REQUIRE(fr.payload.size() >= 2);
    CHECK((uint8_t(fr.payload[0]) << 8 | uint8_t(fr.payload[1])) == 1007);
}

TEST_CASE("compressed text that inflates to invalid UTF-8 fails with 1007") {
    Fixture f(deflate_config(true));
    f.accept(true, {}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    Deflater server;
    REQUIRE(server.init(6, 15, 8, nullptr));
    f.write_peer(server_frame(Opcode::kText, deflated(server, "ok \xc0\xaf", true), true));
    f.spin();
    CHECK(f.client->protocol_error() == ProtocolError::kInvalidUtf8);
    CHECK(f.rec.messages.empty());
}

TEST_CASE("a message that inflates past the limit fails with 1009 before it is all inflated") {
    ClientConfig c = deflate_config(true);
    c.max_inflated_bytes = 1000;
    Fixture f(c);
    f.accept(true, {}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    Deflater server;
    REQUIRE(server.init(9, 15, 8, nullptr));
    f.write_peer(server_frame(Opcode::kBinary, deflated(server, std::string(100000, 'z'), true), true));
    f.spin();
    CHECK(f.client->protocol_error() == ProtocolError::kInflateTooBig);
    CHECK(f.rec.messages.empty());
}

}  // TEST_SUITE
