// ws/server.cc: accepting, admission (the connection caps) and graceful shutdown. Layer: ws/.
#include "ws/server.h"

#include <unistd.h>

#include <algorithm>

#include "ws/handshake.h"
#include "ws/server_connection.h"
#include "ws/server_trace.h"

namespace epws::ws {
namespace {

// Written straight to a socket we will not adopt; small enough to never block.
// RFC 9110 §15.6.4: 503 with Retry-After, the delay after which the client may try again.
constexpr std::string_view kBusyResponse =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 25\r\n"
    "Retry-After: 1\r\nConnection: close\r\n\r\nserver busy, retry later\n";
constexpr std::string_view kPeerBusyResponse =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 39\r\n"
    "Retry-After: 5\r\nConnection: close\r\n\r\ntoo many connections from your address\n";

}  // namespace

Server::Server(net::Loop& loop, const ServerConfig& config, const Routes& routes)
    : ctx_(loop, config, routes) {}

Server::Server(net::Loop& loop, int listen_fd, const ServerConfig& config, const Routes& routes)
    : Server(loop, config, routes) {
    listen(listen_fd, net::PlainTransport::make);
}

void Server::listen(int listen_fd, net::TransportFactory make, bool secure) {
    // The port lives in a list that only grows before start(), so the index stays valid.
    size_t index = ports_.size();
    ports_.push_back({std::move(make), secure});
    listeners_.push_back(std::make_unique<net::Listener>(
        ctx_.loop, listen_fd,
        [this, index](int fd, const sockaddr_storage& peer) { on_accept(fd, peer, ports_[index]); },
        ctx_.stats.rejected_fd_limit));
}

bool Server::start(std::string& err) {
    // One Sec-WebSocket-Accept now (RFC 6455 §4.2.2's sample key): OpenSSL initialises its
    // digest providers on first use, paging in about 2 MB of libcrypto once per process. Paid
    // here, that fixed cost is not charged to the first connection (nor read as per-connection
    // memory by a measurement that starts before it). Its result is not needed.
    char warm[kAcceptKeySize];
    (void)accept_key("dGhlIHNhbXBsZSBub25jZQ==", warm);
    for (auto& l : listeners_)
        if (!l->start(err)) return false;
    return true;
}

// Answers 503 on a connection we will not serve, without reading its request: reading would
// spend on an unwanted peer what the caps are there to save.
void Server::refuse(int fd, std::string_view response, net::Counter& counter, bool secure) {
    ++counter;
    // Best effort: a fresh socket has an empty send buffer, so this small write fits. A TLS
    // client would read it as a bad record, and answering inside TLS would cost the very
    // handshake the caps are there to save: it is just closed.
    if (!secure) {
        ssize_t n = ::write(fd, response.data(), response.size());
        (void)n;
    }
    ::close(fd);
}

void Server::on_accept(int fd, const sockaddr_storage& peer, const Port& port) {
    ++ctx_.stats.accepted;
    const ServerConfig& config = ctx_.config;
    // relaxed: the cap is a soft bound; loops accepting at the same instant may pass it by
    // at most one connection each.
    if (ctx_.shutting_down || ctx_.open->load(std::memory_order_relaxed) >= config.max_connections)
        return refuse(fd, kBusyResponse, ctx_.stats.rejected_over_capacity, port.secure);
    net::PeerLimit::Slot* slot = nullptr;
    if (!ctx_.peers->acquire(peer, slot))
        return refuse(fd, kPeerBusyResponse, ctx_.stats.rejected_per_ip, port.secure);
    net::TransportPtr transport = port.make();
    if (!transport) {  // out of memory for a TLS session: this one connection goes
        ctx_.peers->release(slot);
        ::close(fd);
        return;
    }
    auto conn = std::make_unique<ServerConnection>(ctx_, fd, slot, std::move(transport));
    ServerConnection* raw = conn.get();
    // adopt() deletes the connection if epoll refuses it; its destructor closes the fd, and
    // the slot is ours to give back, since it never opened.
    if (!ctx_.loop.adopt(std::move(conn))) {
        ctx_.peers->release(slot);
        return;
    }
    ctx_.open->fetch_add(1, std::memory_order_relaxed);  // a count only (see above)
    if (ctx_.tracer != nullptr) ctx_.tracer->accepted(*raw);  // before its first byte is read
    // Stop reading from a peer once 1 MiB (or half the cap) waits for it: TCP then slows a
    // sender that does not read, before the cap has to close it.
    raw->set_output_limits(config.max_output_bytes, std::min(1u << 20, config.max_output_bytes / 2));
    raw->set_timeout(config.handshake_timeout_ms);
}

size_t Server::close_websockets(size_t n, const std::function<std::string()>& reason) {
    size_t closed = 0;
    ctx_.loop.for_each_connection([&](net::Connection& c) {
        auto& sc = static_cast<ServerConnection&>(c);
        if (closed < n && sc.is_open()) {
            sc.close_websocket(CloseCode::kGoingAway, reason());  // RFC 6455 §7.4.1: going away
            ++closed;
        }
    });
    return closed;
}

void Server::shutdown() {
    ctx_.shutting_down = true;
    for (auto& l : listeners_) l->close();
    ctx_.loop.for_each_connection([](net::Connection& c) {
        auto& sc = static_cast<ServerConnection&>(c);
        if (sc.is_open()) {
            // RFC 6455 §7.4.1: 1001, the endpoint is going away.
            sc.close_websocket(CloseCode::kGoingAway, "server shutting down");
        } else if (!sc.closing()) {
            sc.close();
        }
    });
    if (ctx_.loop.connection_count() == 0) ctx_.loop.stop();
}

}  // namespace epws::ws
