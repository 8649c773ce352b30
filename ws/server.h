// ws/server.h: a WebSocket server on one loop: accepts, admits, and hands each connection the
// loop's context; the path table (ws/routes.h) decides what each request gets. Layer: ws/.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <memory>
#include <vector>

#include "net/listener.h"
#include "net/loop.h"
#include "net/peer_limit.h"
#include "ws/routes.h"
#include "ws/server_config.h"
#include "ws/server_context.h"

namespace epws::ws {

// One loop's server: its listener, its context (counters, deflate engine, scratch), the
// connections it accepted. Loop thread only.
class Server {
public:
    // config and routes are not owned and must outlive the server. listen_fd is owned; its
    // connections get plain TCP transports.
    Server(net::Loop& loop, int listen_fd, const ServerConfig& config, const Routes& routes);
    // No listener yet: add them with listen().
    Server(net::Loop& loop, const ServerConfig& config, const Routes& routes);
    // Adds a listener (listen_fd owned) whose connections get transports from make (TLS on a
    // second port, say); it starts with start(). Before start() only. secure: its transports
    // encrypt, so a connection refused at accept is closed without the plain-text 503.
    void listen(int listen_fd, net::TransportFactory make, bool secure = false);
    // Starts accepting; false (with err) if the loop refused a listening socket.
    bool start(std::string& err);

    // Graceful stop: no new connections, close 1001 to every WebSocket, drop HTTP ones;
    // the loop stops once the last connection is gone (at most close_timeout later).
    void shutdown();
    // A paced drain's steps before shutdown(): answer new upgrades 503 (plain HTTP is still
    // served, so a load balancer can read a failing health check), then close open WebSockets
    // a few at a time. close_websockets closes up to n with 1001, each with the reason made for
    // it (at most 123 bytes, RFC 6455 §5.5), and returns how many.
    void refuse_upgrades() { ctx_.refusing_upgrades = true; }
    size_t close_websockets(size_t n, const std::function<std::string()>& reason);
    size_t open_websockets() const { return ctx_.stats.websockets; }
    const ServerStats& stats() const { return ctx_.stats; }
    const ServerConfig& config() const { return ctx_.config; }
    net::Loop& loop() { return ctx_.loop; }
    // The i-th listener's socket, in the order they were added.
    int listen_fd(size_t i = 0) const { return listeners_[i]->fd(); }
    size_t listener_count() const { return listeners_.size(); }
    // Several loops' servers share one count of open connections, so --max-connections caps
    // the process, not each loop. Not owned; set before the loop runs.
    void share_connection_count(std::atomic<uint32_t>* count) { ctx_.open = count; }
    // Likewise one count per peer address for --max-connections-per-ip. Not owned; set before
    // the loop runs.
    void share_peer_limit(net::PeerLimit* peers) { ctx_.peers = peers; }
    // Traces the connections tracer chooses (ws/server_trace.h). Not owned; set before the loop
    // runs; null (the default): none.
    void set_tracer(ServerTracer* tracer) { ctx_.tracer = tracer; }

private:
    struct Port {
        net::TransportFactory make;
        bool secure;
    };
    void on_accept(int fd, const sockaddr_storage& peer, const Port& port);
    void refuse(int fd, std::string_view response, net::Counter& counter, bool secure);

    ServerContext ctx_;
    std::vector<Port> ports_;  // one per listener, same order
    std::vector<std::unique_ptr<net::Listener>> listeners_;
};

}  // namespace epws::ws
