// chat/shared.h: the chat's settings and the state all loops share: the hub (ring), rooms,
// users, each loop's published counters and the registry of /chat connections. Layer: chat/.
#pragma once

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "chat/connection_registry.h"
#include "chat/hub.h"
#include "chat/protocol.h"
#include "chat/rooms.h"
#include "ws/server.h"

// The browser client's folder; the Makefile sets it to the repository's web/.
#ifndef EPWS_WEB_ROOT
#define EPWS_WEB_ROOT "web"
#endif

namespace epws::chat {

// Every chat limit a client controls, with its default (the flags in chat/options.cc).
struct ChatConfig {
    std::string jwt_secret;                  // empty: open development mode, trusts ?username=
    size_t history = 1000;                   // messages kept per room for since / history
    size_t max_rooms = 1024;                 // rooms in the whole server
    uint32_t rooms_per_connection = 32;      // joins beyond it: error too_many_rooms
    uint32_t connections_per_user = 16;      // beyond it: 429 at the handshake
    double rate_per_second = 5;              // token bucket refill, messages per second
    double rate_burst = 20;                  // token bucket size
    uint32_t rate_close_after = 100;         // refused in a row before close 1008; 0 = never
    uint32_t slow_consumer_bytes = 1u << 20; // unsent output past it: room messages skipped, gap
    uint32_t ping_interval_ms = 25000;       // server pings to /chat connections; 0 = none
    size_t ring_capacity = 1u << 16;         // entries in the broadcast ring (a power of two)
    ProtocolLimits protocol;
    std::string web_root = EPWS_WEB_ROOT;    // static files served for other GET paths
};

// Shared by the loops of one process. Thread-safe.
class Shared {
public:
    // max_per_ip: --max-connections-per-ip (0: no cap).
    Shared(size_t loops, const ChatConfig& chat_config, uint32_t max_per_ip = 0)
        : config(chat_config), hub(loops, chat_config.ring_capacity),
          rooms(chat_config.history, chat_config.max_rooms),
          users(chat_config.connections_per_user), stats(loops, nullptr), peers(max_per_ip) {}

    const ChatConfig& config;
    // Set by the main thread on SIGINT/SIGTERM (then every loop is woken): each loop's next
    // before-wait hook starts its server's graceful shutdown. release/acquire: the flag is
    // the only thing passed.
    std::atomic<bool> stopping{false};
    Hub hub;
    RoomRegistry rooms;
    UserRegistry users;

    // Every loop's counters (net::Counter: any thread may read them), for /stats. Filled
    // before the loops start; not owned.
    std::vector<const ws::ServerStats*> stats;
    // Open connections of every loop, for --max-connections.
    std::atomic<uint32_t> connections{0};
    // Open connections per peer address of every loop, for --max-connections-per-ip.
    net::PeerLimit peers;
    // Every loop's /chat connections by id, with their counters, for GET /api/connections.
    ConnectionRegistry registry;
};

}  // namespace epws::chat
