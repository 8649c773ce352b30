// tests/chat/endpoints/endpoints_test.cc: /echo, /broadcast and /chat on a socket pair with a
// real loop, context, bus and delivery; no binary started.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>

#include "chat/connection_registry.h"
#include "chat/endpoints/broadcast_endpoint.h"
#include "chat/endpoints/chat_endpoint.h"
#include "chat/endpoints/delivery.h"
#include "chat/endpoints/echo_endpoint.h"
#include "chat/endpoints/outbox.h"
#include "chat/memory_bus.h"
#include "chat/rooms.h"
#include "tests/ws/server_peer.h"

using namespace epws;
using namespace epws::chat;
using epws::test::client_frame;
using epws::test::read_some;
using epws::test::server_frame;
using epws::test::upgrade_request;
using epws::test::write_all;

namespace {

// One loop with all three endpoints, wired as chat/program/server_loop.cc wires them.
struct Fixture : epws::test::ServerPeer {
    ChatConfig chat;
    MemoryBus bus{1, 1024, 100, 16};
    RoomRegistry rooms{16};
    UserRegistry users{4};
    ConnectionRegistry registry;
    Outbox outbox{bus};
    Delivery delivery{bus, 0};
    EchoEndpoint echo;
    BroadcastEndpoint broadcast{outbox};
    ChatEndpoint chat_endpoint{{chat, bus, rooms, users, registry}, *loop, 0, outbox};

    Fixture() {
        routes.add_websocket("/echo", echo);
        routes.add_websocket("/broadcast", broadcast);
        routes.add_websocket("/chat", chat_endpoint);
        delivery.set_sink(Topic::kBroadcast, &broadcast);
        delivery.set_sink(Topic::kRoom, &chat_endpoint);
        delivery.set_sink(Topic::kUser, &chat_endpoint);
        start();
    }
    // What ServerLoop::before_wait does between batches (run_once does not call the hook).
    void step() {
        loop->run_once(2);
        delivery.drain();
        outbox.retry();
        chat_endpoint.tick(loop->now_ms());
    }
    // Upgrades on path; returns the fd and what followed the 101 in `rest`.
    int open(const std::string& path, std::string* status = nullptr) {
        int fd = connect();
        write_all(fd, upgrade_request(path));
        std::string got;
        REQUIRE(run_until([&] { return (got += read_some(fd)).find("\r\n\r\n") != std::string::npos; }));
        if (status) *status = got.substr(0, got.find("\r\n"));
        leftover[fd] = got.substr(got.find("\r\n\r\n") + 4);  // frames may share the read
        return fd;
    }
    // Reads until `needle` has arrived on fd; returns everything read since the last call.
    std::string read_until(int fd, const std::string& needle) {
        std::string got = std::move(leftover[fd]);
        leftover[fd].clear();
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < end) {
            step();
            got += read_some(fd);
        }
        return got;
    }
    std::map<int, std::string> leftover;
};

}  // namespace

TEST_SUITE("chat/endpoints") {
    TEST_CASE("/echo sends every message back as it came") {
        Fixture f;
        int fd = f.open("/echo");
        write_all(fd, client_frame(ws::Opcode::kBinary, std::string("\x00\x01\x02", 3)));
        CHECK(f.read_until(fd, std::string("\x00\x01\x02", 3)) ==
              server_frame(ws::Opcode::kBinary, std::string("\x00\x01\x02", 3)));
        ::close(fd);
    }

    TEST_CASE("/broadcast sends every message to every subscriber, the sender included") {
        Fixture f;
        int a = f.open("/broadcast");
        int b = f.open("/broadcast");
        write_all(a, client_frame(ws::Opcode::kText, "to all"));
        std::string frame = server_frame(ws::Opcode::kText, "to all");
        CHECK(f.read_until(a, "to all") == frame);
        CHECK(f.read_until(b, "to all") == frame);
        CHECK(f.broadcast.subscribers() == 2);
        ::close(a);
        REQUIRE(f.run_until([&] { return f.broadcast.subscribers() == 1; }));
        write_all(b, client_frame(ws::Opcode::kText, "again"));
        CHECK(f.read_until(b, "again") == server_frame(ws::Opcode::kText, "again"));
        ::close(b);
    }

    TEST_CASE("/chat refuses a handshake without a valid name, with 401") {
        Fixture f;
        std::string status;
        int fd = f.open("/chat?username=", &status);
        CHECK(status == "HTTP/1.1 401 Unauthorized");
        ::close(fd);
    }

    TEST_CASE("/chat welcomes, joins the lobby, and numbers what is said there for every member") {
        Fixture f;
        int a = f.open("/chat?username=alice");
        std::string got = f.read_until(a, "\"type\":\"presence\"");
        CHECK(got.find("\"type\":\"welcome\"") != std::string::npos);
        int b = f.open("/chat?username=bob");
        f.read_until(b, "\"type\":\"presence\"");
        CHECK(f.read_until(a, "\"joined\":[\"bob\"]").find("\"type\":\"presence_change\"") !=
              std::string::npos);
        write_all(b, client_frame(ws::Opcode::kText, R"({"type":"say","room":"lobby","text":"hi"})"));
        for (int fd : {a, b}) {
            std::string m = f.read_until(fd, "\"text\":\"hi\"");
            CHECK(m.find("\"seq\":1") != std::string::npos);
            CHECK(m.find("\"from\":\"bob\"") != std::string::npos);
        }
        // Resume: a join with since replays what followed it, from the bus's history.
        write_all(a, client_frame(ws::Opcode::kText, R"({"type":"join","room":"lobby","since":0,"id":7})"));
        std::string replay = f.read_until(a, "\"type\":\"history\"");
        CHECK(replay.find("\"text\":\"hi\"") != std::string::npos);
        ::close(a);
        ::close(b);
    }
}
