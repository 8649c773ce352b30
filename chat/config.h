// chat/config.h: every chat limit a client controls, with its default (the flags in
// chat/program/options.cc). Layer: chat/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/protocol.h"

namespace epws::chat {

struct ChatConfig {
    std::string jwt_secret;                  // empty: open development mode, trusts ?username=
    std::string admin_token;                 // sees every connection in GET /api/connections
    size_t history = 1000;                   // messages kept per room for since / history
    size_t max_rooms = 1024;                 // rooms in the whole server
    uint32_t room_idle_ttl_ms = 300000;      // an empty room is forgotten after it (5 minutes)
    double room_create_rate = 0.1;           // rooms a user may create per second (a bucket)
    double room_create_burst = 10;           // that bucket's size
    uint32_t rooms_per_connection = 32;      // joins beyond it: error too_many_rooms
    uint32_t connections_per_user = 16;      // beyond it: 429 at the handshake
    double rate_per_second = 5;              // token bucket refill, messages per second
    double rate_burst = 20;                  // token bucket size
    uint32_t rate_close_after = 100;         // refused in a row before close 1008; 0 = never
    uint32_t slow_consumer_bytes = 1u << 20; // unsent output past it: room messages skipped, gap
    uint32_t ping_interval_ms = 25000;       // server pings to /chat connections; 0 = none
    size_t ring_capacity = 1u << 16;         // entries in the broadcast ring (a power of two)
    ProtocolLimits protocol;
};

}  // namespace epws::chat
