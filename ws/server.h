// ws/server.h: a WebSocket server on one loop: accepts, upgrades, and hands messages to an
// Application. Layer: ws/. The application (chat/) sits above and sees no sockets.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/counter.h"
#include "net/listener.h"
#include "net/loop.h"
#include "net/peer_limit.h"
#include "ws/deflate_engine.h"
#include "ws/deflate_params.h"
#include "ws/frame.h"
#include "ws/handshake.h"
#include "ws/http_request.h"
#include "ws/message_reader.h"

namespace epws::ws {

class ServerConnection;

// Every limit a client controls, with its default (STYLE.md: one config struct).
struct ServerConfig {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    unsigned threads = 1;
    HttpLimits http;                         // 8 KiB of head, 100 headers, 4 KiB target
    ReaderLimits reader;                     // 16 MiB message, 1 Mi fragments
    HandshakeConfig handshake;               // subprotocols, Origin allow-list
    DeflateConfig deflate;                   // permessage-deflate: shared mode, level 6, 15-bit
                                             // window, memLevel 8, messages of 64 bytes and up
    uint32_t max_output_bytes = 32u << 20;   // queued for one peer before close 1008
    uint32_t handshake_timeout_ms = 10000;   // request head must arrive within this
    uint32_t idle_timeout_ms = 120000;       // no bytes from the peer for this long: close 1001
    uint32_t close_timeout_ms = 5000;        // wait this long for the peer's close / FIN
    uint32_t max_connections = 100000;       // open sockets in all; over it: 503
    uint32_t max_connections_per_ip = 1024;  // open sockets per IPv4 address or IPv6 /64;
                                             // over it: 503; 0: no cap
};

// Counters of one server (one loop). Loop thread only.
struct ServerStats {
    net::Counter accepted;
    net::Counter handshakes;             // successful upgrades
    net::Counter rejected_handshakes;    // upgrade requests answered with an error status
    net::Counter http_requests;          // plain HTTP requests answered
    net::Counter bad_requests;           // heads refused unparsed: malformed (400) or over a
                                         // limit (414, 431)
    net::Counter rejected_over_capacity; // answered 503 at accept: max_connections reached
    net::Counter rejected_per_ip;        // answered 503 at accept: the peer's address is at
                                         // max_connections_per_ip
    net::Counter rejected_fd_limit;      // closed at accept: the process is out of descriptors
    net::Counter handshake_timeouts;
    net::Counter idle_timeouts;
    net::Counter close_timeouts;
    net::Counter protocol_errors;        // connections failed with 1002/1007/1009
    net::Counter closed_output_overflow; // peers that stopped reading, closed with 1008
    net::Counter messages_in;
    net::Counter messages_out;
    net::Counter websockets;             // open WebSocket connections now
    DeflateStats deflate;                // permessage-deflate (RFC 7692)
};

// A plain HTTP answer the application fills in.
struct HttpReply {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string extra_headers;  // each a full "Name: value\r\n"
};

// What runs on top. All calls come on the loop thread.
class Application {
public:
    virtual ~Application() = default;
    // A request that is not a WebSocket upgrade.
    virtual void on_http(const HttpRequest& req, HttpReply& reply) = 0;
    // A valid upgrade request: kNone to accept it, else the refusal to answer with (kNotFound
    // for a path that is no WebSocket endpoint, kUnauthorized for bad credentials, ...).
    virtual HttpError check_websocket(const HttpRequest& req) = 0;
    // The upgrade succeeded; req (the upgrade request) is valid only during the call.
    virtual void on_open(ServerConnection&, const HttpRequest&) {}
    // A complete message; payload is valid only during the call.
    virtual void on_message(ServerConnection& ws, Opcode op, std::span<const std::byte> payload) = 0;
    // The connection is gone; code is what the peer sent (1005 none, 1006 no close frame).
    virtual void on_close(ServerConnection&, uint16_t) {}
    // The connection's queued output has all been written (after send had to queue).
    virtual void on_drain(ServerConnection&) {}
};

// One loop's server: its listener, its connections, its counters. Loop thread only.
class Server {
public:
    // config and app are not owned and must outlive the server. listen_fd is owned.
    Server(net::Loop& loop, int listen_fd, const ServerConfig& config, Application& app);
    ~Server();

    // Graceful stop: no new connections, close 1001 to every WebSocket, drop HTTP ones;
    // the loop stops once the last connection is gone (at most close_timeout later).
    void shutdown();
    const ServerStats& stats() const { return stats_; }
    const ServerConfig& config() const { return config_; }
    net::Loop& loop() { return loop_; }
    int listen_fd() const { return listener_.fd(); }
    // Several loops' servers share one count of open connections, so --max-connections caps
    // the process, not each loop. Not owned; set before the loop runs. Default: our own.
    void share_connection_count(std::atomic<uint32_t>* count) { open_ = count; }
    // Likewise one count per peer address for --max-connections-per-ip. Not owned; set before
    // the loop runs. Default: our own, with config.max_connections_per_ip as its cap.
    void share_peer_limit(net::PeerLimit* peers) { peers_ = peers; }

private:
    friend class ServerConnection;
    friend class Broadcast;
    void on_accept(int fd, const sockaddr_storage& peer);
    void connection_closed(net::PeerLimit::Slot* peer);
    void refuse(int fd, std::string_view response, net::Counter& counter);

    net::Loop& loop_;
    const ServerConfig& config_;
    Application& app_;
    net::Listener listener_;
    ServerStats stats_;
    HttpRequest request_;    // parse target reused by every connection (capacity kept)
    std::string response_;   // response scratch reused likewise
    std::string extensions_answer_;  // Sec-WebSocket-Extensions answer scratch, likewise
    DeflateEngine deflate_;  // the loop's shared zlib streams and scratch (lazily created)
    std::atomic<uint32_t> own_count_{0};
    std::atomic<uint32_t>* open_ = &own_count_;
    net::PeerLimit own_peers_;
    net::PeerLimit* peers_ = &own_peers_;
    bool shutting_down_ = false;
};

// One message sent to many connections of one server: framed once, and compressed at most once
// per window size for every recipient whose compressor keeps no context (RFC 7692 §7.1.1.1: its
// compressed bytes then depend only on the message and the window, so all of them can share
// them). Recipients without the extension, or below the threshold, get the one plain frame;
// recipients whose compressor keeps context (dedicated mode) get their own compression.
// Loop thread only; payload must stay valid while the object lives.
class Broadcast {
public:
    Broadcast(Opcode op, std::span<const std::byte> payload);
    // Same outcomes as ServerConnection::send_frame. Every recipient of one Broadcast belongs to
    // the same Server (one loop).
    net::SendStatus send_to(ServerConnection& to);

private:
    struct Variant {
        std::vector<std::byte> body;  // the compressed payload
        std::byte header[kMaxFrameHeader];
        uint8_t header_size = 0;
        bool ready = false;       // compressed (or tried) already
        bool compressed = false;  // false: compressing did not help, send the plain frame
    };
    Variant& variant(Server& server, uint8_t window_bits);

    std::span<const std::byte> payload_;
    Opcode op_;
    uint8_t plain_size_ = 0;
    std::byte plain_header_[kMaxFrameHeader];
    Variant variants_[8];  // by the recipient's server window bits, 8..15
};

}  // namespace epws::ws
