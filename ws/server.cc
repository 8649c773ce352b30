// ws/server.cc: accepting, the connection cap and graceful shutdown. Layer: ws/.
#include "ws/server.h"

#include <unistd.h>

#include <algorithm>

#include "ws/server_connection.h"

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

Server::Server(net::Loop& loop, int listen_fd, const ServerConfig& config, Application& app)
    : loop_(loop), config_(config), app_(app),
      listener_(loop, listen_fd,
                [this](int fd, const sockaddr_storage& peer) { on_accept(fd, peer); },
                stats_.rejected_fd_limit),  // bound now, first counted once stats_ exists
      deflate_(config.deflate, stats_.deflate), own_peers_(config.max_connections_per_ip) {
    request_.headers.reserve(config.http.max_headers + 1);
}

Server::~Server() = default;

// Answers 503 on a connection we will not serve, without reading its request: reading would
// spend on an unwanted peer what the caps are there to save.
void Server::refuse(int fd, std::string_view response, net::Counter& counter) {
    ++counter;
    // Best effort: a fresh socket has an empty send buffer, so this small write fits.
    ssize_t n = ::write(fd, response.data(), response.size());
    (void)n;
    ::close(fd);
}

void Server::on_accept(int fd, const sockaddr_storage& peer) {
    ++stats_.accepted;
    // relaxed: the cap is a soft bound; loops accepting at the same instant may pass it by
    // at most one connection each.
    if (shutting_down_ || open_->load(std::memory_order_relaxed) >= config_.max_connections)
        return refuse(fd, kBusyResponse, stats_.rejected_over_capacity);
    net::PeerLimit::Slot* slot = nullptr;
    if (!peers_->acquire(peer, slot)) return refuse(fd, kPeerBusyResponse, stats_.rejected_per_ip);
    auto conn = std::make_unique<ServerConnection>(*this, fd);
    ServerConnection* raw = conn.get();
    raw->peer_slot_ = slot;
    if (!loop_.adopt(std::move(conn))) {
        peers_->release(slot);
        return;
    }
    open_->fetch_add(1, std::memory_order_relaxed);  // a count only (see above)
    // Stop reading from a peer once 1 MiB (or half the cap) waits for it: TCP then slows a
    // sender that does not read, before the cap has to close it.
    raw->set_output_limits(config_.max_output_bytes, std::min(1u << 20, config_.max_output_bytes / 2));
    raw->set_timeout(config_.handshake_timeout_ms);
}

void Server::shutdown() {
    shutting_down_ = true;
    listener_.close();
    loop_.for_each_connection([](net::Connection& c) {
        auto& sc = static_cast<ServerConnection&>(c);
        if (sc.is_open()) {
            sc.close_websocket(1001, "server shutting down");  // RFC 6455 §7.4.1: going away
        } else if (!sc.closing()) {
            sc.close();
        }
    });
    if (loop_.connection_count() == 0) loop_.stop();
}

void Server::connection_closed(net::PeerLimit::Slot* peer) {
    peers_->release(peer);
    open_->fetch_sub(1, std::memory_order_relaxed);  // a count only
    if (shutting_down_ && loop_.connection_count() <= 1) loop_.stop();
}

Broadcast::Broadcast(Opcode op, std::span<const std::byte> payload) : payload_(payload), op_(op) {
    plain_size_ = static_cast<uint8_t>(encode_frame_header(plain_header_, op, payload.size()));
}

net::SendStatus Broadcast::send_to(ServerConnection& to) {
    Server& server = to.server_;
    const DeflateParams& p = to.deflate_params();
    if (!server.deflate_.should_compress(p, payload_.size()))
        return to.send_frame({plain_header_, plain_size_}, payload_);
    // A compressor that keeps context makes bytes valid for its own peer only.
    if (!DeflateEngine::output_is_shareable(p)) return to.send_message(op_, payload_);
    Variant& v = variant(server, p.server_window_bits);
    if (!v.compressed) return to.send_frame({plain_header_, plain_size_}, payload_);
    return to.send_frame_of({v.header, v.header_size}, v.body, payload_.size());
}

Broadcast::Variant& Broadcast::variant(Server& server, uint8_t window_bits) {
    Variant& v = variants_[window_bits - 8];
    if (v.ready) {
        if (v.compressed) ++server.stats_.deflate.frames_reused;
        return v;
    }
    v.ready = true;
    DeflateParams p;
    p.enabled = true;
    p.server_no_context_takeover = true;
    p.server_window_bits = window_bits;
    std::unique_ptr<DeflateStreams> none;  // a shareable compressor is the loop's own
    // RFC 7692 §6: any message may go uncompressed, so a zlib failure or a message that does
    // not shrink (its receivers keep no context from us) is sent plain.
    v.compressed = server.deflate_.compress(p, none, payload_, v.body) &&
                   v.body.size() < payload_.size();
    if (v.compressed) {
        // RFC 7692 §6: RSV1 on the first (here the only) frame marks the message compressed.
        v.header_size = static_cast<uint8_t>(
            encode_frame_header(v.header, op_, v.body.size(), true, true));
    }
    return v;
}

}  // namespace epws::ws
