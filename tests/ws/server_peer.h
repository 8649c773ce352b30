// tests/ws/server_peer.h: a hand-driven client for server-side tests: one end of a socket pair,
// a real net::Loop and ws::ServerContext on the other, no binary started. Test support only.
#pragma once

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "net/loop.h"
#include "ws/frame.h"
#include "ws/routes.h"
#include "ws/server_config.h"
#include "ws/server_connection.h"
#include "ws/server_context.h"

namespace epws::test {

// A server loop with one context and a raw peer per connect(). Not thread-safe.
struct ServerPeer {
    ws::ServerConfig config;
    ws::Routes routes;
    std::unique_ptr<net::Loop> loop;
    std::unique_ptr<ws::ServerContext> ctx;

    ServerPeer() {
        std::string err;
        loop = net::Loop::create(err);
        REQUIRE(loop);
    }
    // Call after filling config and routes: the context keeps references to both.
    void start() { ctx = std::make_unique<ws::ServerContext>(*loop, config, routes); }

    // A new server connection; returns the peer's fd (closed by the caller) and the connection
    // (valid until it closes).
    int connect(ws::ServerConnection** out = nullptr) {
        int sv[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
        auto c = std::make_unique<ws::ServerConnection>(*ctx, sv[0]);
        c->set_output_limits(config.max_output_bytes, config.max_output_bytes / 2);
        if (out) *out = c.get();
        REQUIRE(loop->adopt(std::move(c)));
        ctx->open->fetch_add(1);
        return sv[1];
    }

    // Runs the loop until pred() holds or 3 seconds pass; returns pred().
    bool run_until(const std::function<bool()>& pred) {
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (!pred() && std::chrono::steady_clock::now() < end) loop->run_once(5);
        return pred();
    }
};

inline void write_all(int fd, const std::string& s) {
    REQUIRE(::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
}

inline std::string read_some(int fd) {
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
}

inline std::string upgrade_request(const std::string& path, const std::string& extra = {}) {
    return "GET " + path + " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
           extra + "\r\n";
}

// A masked client frame (RFC 6455 §5.3).
inline std::string client_frame(ws::Opcode op, const std::string& payload) {
    const std::byte key[4] = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    std::byte header[ws::kMaxFrameHeader];
    size_t h = ws::encode_frame_header(header, op, payload.size(), true, false, key);
    std::string out(reinterpret_cast<const char*>(header), h);
    std::string body = payload;
    ws::apply_mask(reinterpret_cast<std::byte*>(body.data()), body.size(), key);
    return out + body;
}

// An unmasked server frame as the peer expects to read it.
inline std::string server_frame(ws::Opcode op, const std::string& payload) {
    std::byte header[ws::kMaxFrameHeader];
    size_t h = ws::encode_frame_header(header, op, payload.size());
    return std::string(reinterpret_cast<const char*>(header), h) + payload;
}

}  // namespace epws::test
