// ws/server_context.h: what one loop's server lends each of its connections: the limits, the
// path table, the counters, the deflate engine and parse scratch. Layer: ws/.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "net/loop.h"
#include "net/peer_limit.h"
#include "ws/deflate_engine.h"
#include "ws/http/request.h"
#include "ws/routes.h"
#include "ws/server_config.h"

namespace epws::ws {

class ServerTracer;

// One per loop, owned by its Server; every connection of the loop holds a reference. Loop thread
// only (stats may be read from other threads: net::Counter).
struct ServerContext {
    ServerContext(net::Loop& l, const ServerConfig& c, const Routes& r)
        : loop(l), config(c), routes(r), deflate(c.deflate, stats.deflate),
          own_peers(c.max_connections_per_ip) {
        request.headers.reserve(c.http.max_headers + 1);
    }
    ServerContext(const ServerContext&) = delete;
    ServerContext& operator=(const ServerContext&) = delete;

    // A connection of this loop has closed: give back its admission slots; during a graceful
    // stop, the last one stops the loop.
    void connection_closed(net::PeerLimit::Slot* peer) {
        peers->release(peer);
        open->fetch_sub(1, std::memory_order_relaxed);  // a count only (see Server::on_accept)
        // <= 1: the connection calling this is still counted by the loop until the batch ends.
        if (shutting_down && loop.connection_count() <= 1) loop.stop();
    }

    net::Loop& loop;
    const ServerConfig& config;  // not owned
    const Routes& routes;        // not owned
    ServerStats stats;
    DeflateEngine deflate;       // the loop's shared zlib streams and scratch (made lazily)
    // Scratch every connection of the loop reuses (capacity kept): the request being parsed,
    // the response being written, the Sec-WebSocket-Extensions answer.
    HttpRequest request;
    std::string response;
    std::string extensions_answer;
    // Admission: open connections and connections per peer address, shared by every loop of a
    // process when the program says so (Server::share_*), else this loop's own.
    std::atomic<uint32_t> own_open{0};
    std::atomic<uint32_t>* open = &own_open;
    net::PeerLimit own_peers;
    net::PeerLimit* peers = &own_peers;
    // --trace-connection / --trace-user (ws/server_trace.h); null, the default, traces nothing
    // and costs each read and send one test of this pointer. Not owned.
    ServerTracer* tracer = nullptr;
    bool shutting_down = false;
    bool refusing_upgrades = false;  // draining: new upgrades get 503 (Server::refuse_upgrades)
};

}  // namespace epws::ws
