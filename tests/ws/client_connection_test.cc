// tests/ws/client_connection_test.cc: the client glue on a socket pair driven by a real Loop;
// the test plays the server by hand, byte by byte where it matters.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "net/loop.h"
#include "ws/client_connection.h"

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

    Fixture() {
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
    void accept(bool good_accept = true, const std::string& extra = {}) {
        std::string req = read_peer();
        auto at = req.find("Sec-WebSocket-Key: ");
        REQUIRE(at != std::string::npos);
        std::string key = req.substr(at + 19, 24);
        char acc[kAcceptKeySize];
        REQUIRE(accept_key(good_accept ? key : std::string(24, 'A'), acc));
        write_peer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                   std::string(acc, kAcceptKeySize) + "\r\n\r\n" + extra);
        spin();
    }
};

std::string server_frame(Opcode op, const std::string& payload) {
    std::byte h[kMaxFrameHeader];
    size_t n = encode_frame_header(h, op, payload.size());
    return std::string(reinterpret_cast<const char*>(h), n) + payload;
}

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

}  // TEST_SUITE
